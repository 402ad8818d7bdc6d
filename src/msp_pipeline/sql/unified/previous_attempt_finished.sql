-- When the previous attempt of a BullMQ job ended: a retry becomes due at that time plus
-- its backoff delay.
SELECT max(finished_at)
FROM job_runs
WHERE job_key = %(job_key)s AND path = 'unified' AND tenant_id = %(tenant_id)s
