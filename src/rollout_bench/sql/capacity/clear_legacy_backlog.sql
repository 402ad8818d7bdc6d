-- A capacity step's legacy jobs still queued after its pipeline stopped: marked broken with
-- the reason, so the next step's scheduler never claims them (kept, not deleted: evidence).
UPDATE scheduled_jobs
SET status = 'broken', error = %(reason)s
WHERE status IN ('pending', 'running', 'failed') AND payload ->> 'syncId' LIKE %(sync_pattern)s
