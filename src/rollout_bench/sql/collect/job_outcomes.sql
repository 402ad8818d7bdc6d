-- Per job key: how many attempts completed, how many failed, and on which path.
SELECT job_key,
       min(path) AS path,
       count(*) FILTER (WHERE status = 'completed') AS completed,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       count(*) FILTER (WHERE status = 'running') AS running
FROM job_runs
WHERE sync_id NOT LIKE %(warmup)s
GROUP BY job_key
