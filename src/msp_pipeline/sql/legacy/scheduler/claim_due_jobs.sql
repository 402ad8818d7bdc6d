-- Legacy poll: due pending jobs and failed jobs whose retry time came, under attempts_max,
-- highest priority first, then oldest; at most each tenant's free concurrency slots
-- (tenants.concurrent_job_limit) and, when LEGACY_MAX_IN_FLIGHT is set, the global cap
-- (%(limit)s NULL = no cap).
-- SKIP LOCKED: two schedulers never claim the same job.
WITH running AS (
    SELECT tenant_id, count(*) AS n FROM scheduled_jobs WHERE status = 'running' GROUP BY tenant_id
), due AS (
    SELECT j.id, j.tenant_id,
           row_number() OVER (PARTITION BY j.tenant_id ORDER BY j.priority DESC, j.scheduled_at) AS rank
    FROM scheduled_jobs j
    WHERE j.attempts < j.attempts_max AND j.scheduled_at <= now()
      AND (j.status = 'pending' OR (j.status = 'failed' AND j.next_retry_at <= now()))
), allowed AS (
    SELECT d.id
    FROM due d
    JOIN tenants t ON t.id = d.tenant_id
    LEFT JOIN running r ON r.tenant_id = d.tenant_id
    WHERE d.rank <= t.concurrent_job_limit - coalesce(r.n, 0)
), claimed AS (
    SELECT j.id FROM scheduled_jobs j
    WHERE j.id IN (SELECT id FROM allowed)
      -- re-checked on the latest row version once locked: another scheduler may have
      -- claimed it after this statement's snapshot was taken
      AND (j.status = 'pending' OR (j.status = 'failed' AND j.next_retry_at <= now()))
      AND j.attempts < j.attempts_max
    ORDER BY j.priority DESC, j.scheduled_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE scheduled_jobs j
SET status = 'running', started_at = clock_timestamp(), attempts = j.attempts + 1
FROM claimed c
WHERE j.id = c.id
RETURNING j.id, j.tenant_id, j.payload, j.attempts, j.attempts_max, j.scheduled_at, j.priority
