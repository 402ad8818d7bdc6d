-- Legacy jobs still on their path: pending, running, or failed and waiting for a retry.
SELECT payload ->> 'syncId', payload ->> 'entityType', coalesce((payload ->> 'batchNumber')::int, 0), status
FROM scheduled_jobs
WHERE status IN ('pending', 'running', 'failed')
