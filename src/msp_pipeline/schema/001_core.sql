-- Core tables of the pipeline (docs/pipeline.md, "Data model").
-- Ids are text: tenants, data sources and integrations carry stable ids chosen by the
-- generator, so routing hashes (TenantMigration.bucket) are the same as in production.

CREATE TABLE IF NOT EXISTS tenants (
    id                   text PRIMARY KEY,
    name                 text NOT NULL,
    status               text NOT NULL DEFAULT 'active'
                         CHECK (status IN ('active', 'inactive', 'suspended')),
    concurrent_job_limit integer NOT NULL DEFAULT 5 CHECK (concurrent_job_limit > 0),
    created_at           timestamptz NOT NULL DEFAULT now()
);

-- supported_types: [{"type": "identities", "priority": 5, "rate_minutes": 60}, ...]
CREATE TABLE IF NOT EXISTS integrations (
    id              text PRIMARY KEY,
    name            text NOT NULL,
    supported_types jsonb NOT NULL DEFAULT '[]'
);

CREATE TABLE IF NOT EXISTS data_sources (
    id              text PRIMARY KEY,
    tenant_id       text NOT NULL REFERENCES tenants (id),
    integration_id  text NOT NULL REFERENCES integrations (id),
    status          text NOT NULL DEFAULT 'active'
                    CHECK (status IN ('active', 'inactive', 'error')),
    config          jsonb NOT NULL DEFAULT '{}',
    last_sync_at    jsonb NOT NULL DEFAULT '{}',   -- {"identities": "2026-11-28T10:00:00Z", ...}
    current_sync_id text,
    deleted_at      timestamptz
);

-- The legacy queue, polled by the legacy scheduler.
CREATE TABLE IF NOT EXISTS scheduled_jobs (
    id             bigserial PRIMARY KEY,
    tenant_id      text NOT NULL REFERENCES tenants (id),
    data_source_id text NOT NULL REFERENCES data_sources (id),
    action         text NOT NULL,                 -- 'microsoft-365.sync.identities'
    payload        jsonb NOT NULL DEFAULT '{}',   -- {cursor, syncId, batchNumber}
    priority       integer NOT NULL DEFAULT 5,
    status         text NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'running', 'completed', 'failed', 'broken')),
    attempts       integer NOT NULL DEFAULT 0,
    attempts_max   integer NOT NULL DEFAULT 3,
    next_retry_at  timestamptz,
    scheduled_at   timestamptz NOT NULL DEFAULT now(),
    started_at     timestamptz,
    completed_at   timestamptz,
    error          text,
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- All synced objects, one table. entity_type in
-- ('identities', 'groups', 'roles', 'policies', 'licenses').
CREATE TABLE IF NOT EXISTS entities (
    id              bigserial PRIMARY KEY,
    tenant_id       text NOT NULL REFERENCES tenants (id),
    data_source_id  text NOT NULL REFERENCES data_sources (id),
    entity_type     text NOT NULL,
    external_id     text NOT NULL,
    data_hash       text NOT NULL,
    raw_data        jsonb NOT NULL,
    normalized_data jsonb NOT NULL,
    tags            text[] NOT NULL DEFAULT '{}',
    state           text NOT NULL DEFAULT 'normal'
                    CHECK (state IN ('low', 'normal', 'warn', 'high', 'critical')),
    deleted_at      timestamptz,
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    sync_id         text,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (data_source_id, entity_type, external_id)
);

-- relationship_type: member_of (group -> identity), assigned_role (role -> identity),
-- applies_to (policy -> identity or group), has_license (license -> identity).
CREATE TABLE IF NOT EXISTS entity_relationships (
    id                bigserial PRIMARY KEY,
    tenant_id         text NOT NULL REFERENCES tenants (id),
    data_source_id    text NOT NULL REFERENCES data_sources (id),
    parent_entity_id  bigint NOT NULL REFERENCES entities (id),
    child_entity_id   bigint NOT NULL REFERENCES entities (id),
    relationship_type text NOT NULL
                      CHECK (relationship_type IN ('member_of', 'assigned_role', 'applies_to', 'has_license')),
    sync_id           text,
    UNIQUE (parent_entity_id, child_entity_id, relationship_type)
);

-- fingerprint: one alert per (entity, alert_type, subject) where subject is the SKU for
-- license alerts and '' otherwise. Partial unique index below keeps one active row.
CREATE TABLE IF NOT EXISTS entity_alerts (
    id             bigserial PRIMARY KEY,
    tenant_id      text NOT NULL REFERENCES tenants (id),
    entity_id      bigint NOT NULL REFERENCES entities (id),
    data_source_id text NOT NULL REFERENCES data_sources (id),
    alert_type     text NOT NULL,
    subject        text NOT NULL DEFAULT '',
    severity       text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    message        text NOT NULL,
    metadata       jsonb NOT NULL DEFAULT '{}',
    status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'resolved', 'suppressed')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    resolved_at    timestamptz
);

CREATE TABLE IF NOT EXISTS entity_alert_history (
    id                bigserial PRIMARY KEY,
    alert_id          bigint NOT NULL REFERENCES entity_alerts (id),
    tenant_id         text NOT NULL REFERENCES tenants (id),
    previous_status   text,
    new_status        text NOT NULL,
    previous_severity text,
    new_severity      text NOT NULL,
    changed_at        timestamptz NOT NULL DEFAULT now(),
    changed_by        text NOT NULL,     -- 'legacy-alert-manager' | 'unified-alert-manager'
    trace_id          text,
    sync_id           text
);

-- Stands in for Microsoft Graph: what the adapter pages through. The load test mutates
-- these rows between syncs (a user disabled, a policy edited, a sign-in).
CREATE TABLE IF NOT EXISTS graph_source (
    tenant_id      text NOT NULL REFERENCES tenants (id),
    data_source_id text NOT NULL REFERENCES data_sources (id),
    entity_type    text NOT NULL,
    external_id    text NOT NULL,
    payload        jsonb NOT NULL,
    deleted        boolean NOT NULL DEFAULT false,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (data_source_id, entity_type, external_id)
);

-- One row per committed analysis, written in the same transaction as its alerts, so the
-- harness measures analysis time and queries from the pipeline's own records.
CREATE TABLE IF NOT EXISTS analysis_runs (
    id              bigserial PRIMARY KEY,
    tenant_id       text NOT NULL REFERENCES tenants (id),
    data_source_id  text NOT NULL REFERENCES data_sources (id),
    path            text NOT NULL CHECK (path IN ('legacy', 'unified')),
    analyzer        text NOT NULL,       -- 'unified' | 'mfa' | 'policy' | 'license' | 'stale'
    sync_id         text NOT NULL,
    trace_id        text NOT NULL,
    trigger_event_at timestamptz,        -- createdAt of the last linked.* event of the sync
    started_at      timestamptz NOT NULL,
    committed_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    queries         integer NOT NULL,    -- SQL statements issued by this analysis
    rows_read       integer NOT NULL,
    findings        integer NOT NULL,
    comparison      jsonb                -- comparison mode: {matched, mismatched, ignored}
);
