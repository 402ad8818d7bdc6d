-- When each of these jobs first completed (epoch seconds).
SELECT job_key, extract(epoch FROM min(finished_at)) FROM job_runs
WHERE status = 'completed' AND job_key = ANY(%s) GROUP BY job_key
