-- Rollback hand-over: a BullMQ job whose tenant is routed back to legacy becomes a pending
-- scheduled_jobs row for the legacy scheduler. Idempotent per job key (a job re-run after
-- a crash does not hand over twice).
INSERT INTO scheduled_jobs (tenant_id, data_source_id, action, payload, priority, status,
                            scheduled_at)
SELECT %(tenant_id)s, %(data_source_id)s, %(action)s, %(payload)s, %(priority)s, 'pending',
       %(scheduled_at)s
WHERE NOT EXISTS (
    SELECT 1 FROM scheduled_jobs
    WHERE tenant_id = %(tenant_id)s
      AND action = %(action)s
      AND payload ->> 'syncId' = %(sync_id)s
      AND payload ->> 'batchNumber' = %(batch_number)s
)
