SELECT payload ->> 'syncId', payload ->> 'entityType', coalesce((payload ->> 'batchNumber')::int, 0)
FROM scheduled_jobs
WHERE status = 'broken'
