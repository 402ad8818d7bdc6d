-- Composite indexes of phase 6 (database optimisations).
CREATE INDEX IF NOT EXISTS entities_tenant_type_idx
    ON entities (tenant_id, entity_type) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS entities_source_type_idx
    ON entities (data_source_id, entity_type) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS relationships_tenant_type_idx
    ON entity_relationships (tenant_id, relationship_type);
CREATE INDEX IF NOT EXISTS relationships_child_idx
    ON entity_relationships (child_entity_id, relationship_type);
CREATE INDEX IF NOT EXISTS relationships_parent_idx
    ON entity_relationships (parent_entity_id, relationship_type);
CREATE UNIQUE INDEX IF NOT EXISTS alerts_one_active_idx
    ON entity_alerts (entity_id, alert_type, subject) WHERE status = 'active';
CREATE INDEX IF NOT EXISTS alerts_tenant_status_idx
    ON entity_alerts (tenant_id, status, alert_type);
CREATE INDEX IF NOT EXISTS alert_history_alert_idx
    ON entity_alert_history (alert_id, changed_at);
CREATE INDEX IF NOT EXISTS scheduled_jobs_due_idx
    ON scheduled_jobs (status, scheduled_at, priority DESC);
CREATE INDEX IF NOT EXISTS scheduled_jobs_tenant_running_idx
    ON scheduled_jobs (tenant_id) WHERE status = 'running';
CREATE INDEX IF NOT EXISTS graph_source_tenant_type_idx
    ON graph_source (tenant_id, entity_type);
CREATE INDEX IF NOT EXISTS analysis_runs_path_idx
    ON analysis_runs (path, committed_at);
