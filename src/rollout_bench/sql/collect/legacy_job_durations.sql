-- Seconds each finished legacy job attempt ran (started -> finished): the legacy path's
-- processing time, which its latency baseline (poll interval + processing) allows for.
SELECT extract(epoch FROM finished_at - started_at)
FROM job_runs
WHERE path = 'legacy' AND finished_at IS NOT NULL AND sync_id NOT LIKE %(warmup)s
