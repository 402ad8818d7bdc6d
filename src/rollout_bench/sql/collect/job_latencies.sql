-- First attempt of every job: latency from the intended arrival (or, for jobs the load did
-- not schedule, such as next pages, from when the job was added or became due).
SELECT DISTINCT ON (job_key)
       path,
       job_key,
       extract(epoch FROM started_at - coalesce(intended_at, enqueued_at)) * 1000.0 AS job_latency_ms,
       started_at
FROM job_runs
WHERE sync_id NOT LIKE %(warmup)s
ORDER BY job_key, started_at
