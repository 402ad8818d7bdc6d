-- A capacity step's legacy jobs not finished yet: pending (due or not), running, or failed
-- and waiting for a retry.
SELECT count(*)
FROM scheduled_jobs
WHERE status IN ('pending', 'running', 'failed') AND payload ->> 'syncId' LIKE %(sync_pattern)s
