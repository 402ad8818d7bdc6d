-- When each of the given jobs first started (epoch seconds), on either path.
SELECT job_key, extract(epoch FROM min(started_at))::float8
FROM job_runs
WHERE job_key = ANY(%(keys)s)
GROUP BY job_key
