-- One row per attempt of a sync job, on either path, written by the process that runs
-- it: the pipeline's own record of job latency (started_at - coalesce(intended_at,
-- enqueued_at)), and what lets the harness find lost and duplicated jobs.
CREATE TABLE IF NOT EXISTS job_runs (
    id             bigserial PRIMARY KEY,
    job_key        text NOT NULL,        -- '{syncId}:{entityType}:{batchNumber}', set by whoever enqueues
    path           text NOT NULL CHECK (path IN ('legacy', 'unified')),
    tenant_id      text NOT NULL,
    data_source_id text NOT NULL,
    entity_type    text NOT NULL,
    sync_id        text NOT NULL,
    attempt        integer NOT NULL DEFAULT 1,
    intended_at    timestamptz,          -- when the load generator meant the job to arrive
    enqueued_at    timestamptz NOT NULL, -- job added (BullMQ timestamp) or due (scheduled_at)
    started_at     timestamptz NOT NULL,
    finished_at    timestamptz,
    status         text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'completed', 'failed')),
    error          text
);
CREATE INDEX IF NOT EXISTS job_runs_key_idx ON job_runs (job_key);
CREATE INDEX IF NOT EXISTS job_runs_path_started_idx ON job_runs (path, started_at);
