-- Unified alert manager (phase 5), one set-based statement: the explicit findings of every
-- covered alert type (even none) against the active alerts of the tenant's data source.
-- New -> create; same identity with another severity or message -> update; active but no
-- longer found -> resolve (the MFA bug fixed). One history row per change. An unchanged
-- finding changes nothing, so a re-run writes no alert and no history row.
-- Alert identity: (entity_id, alert_type, subject), unique while active (alerts_one_active_idx).
WITH found AS MATERIALIZED (
    SELECT DISTINCT ON (f.entity_id, f.alert_type, f.subject) f.*
    FROM jsonb_to_recordset(%(findings)s::jsonb)
         AS f(entity_id bigint, alert_type text, subject text, severity text, message text, metadata jsonb)
),
current_alerts AS MATERIALIZED (
    SELECT a.id, a.entity_id, a.alert_type, a.subject, a.severity, a.message
    FROM entity_alerts a
    WHERE a.tenant_id = %(tenant_id)s
      AND a.data_source_id = %(data_source_id)s
      AND a.status = 'active'
      AND a.alert_type = ANY(%(alert_types)s)
),
-- FULL JOIN (hash or merge join only, never a nested loop): the plan stays linear even when
-- table statistics are stale, e.g. right after a bulk load.
diff AS MATERIALIZED (
    SELECT c.id AS alert_id, c.severity AS current_severity, c.message AS current_message,
           f.entity_id, f.alert_type, f.subject, f.severity, f.message, f.metadata
    FROM found f
    FULL JOIN current_alerts c
      ON c.entity_id = f.entity_id AND c.alert_type = f.alert_type AND c.subject = f.subject
),
created AS (
    INSERT INTO entity_alerts (tenant_id, entity_id, data_source_id, alert_type, subject, severity,
                               message, metadata)
    SELECT %(tenant_id)s, d.entity_id, %(data_source_id)s, d.alert_type, d.subject, d.severity,
           d.message, d.metadata
    FROM diff d
    WHERE d.alert_id IS NULL
    ON CONFLICT (entity_id, alert_type, subject) WHERE status = 'active' DO NOTHING
    RETURNING id, severity
),
updated AS (
    UPDATE entity_alerts a
    SET severity = d.severity, message = d.message, metadata = d.metadata, updated_at = now()
    FROM diff d
    WHERE a.id = d.alert_id AND d.entity_id IS NOT NULL
      AND (d.current_severity <> d.severity OR d.current_message <> d.message)
    RETURNING a.id, d.current_severity AS previous_severity, a.severity
),
resolved AS (
    UPDATE entity_alerts a
    SET status = 'resolved', resolved_at = now(), updated_at = now()
    FROM diff d
    WHERE a.id = d.alert_id AND d.entity_id IS NULL
    RETURNING a.id, a.severity
),
changes AS (
    SELECT id, NULL::text AS previous_status, 'active' AS new_status,
           NULL::text AS previous_severity, severity AS new_severity FROM created
    UNION ALL
    SELECT id, 'active', 'active', previous_severity, severity FROM updated
    UNION ALL
    SELECT id, 'active', 'resolved', severity, severity FROM resolved
),
history AS (
    INSERT INTO entity_alert_history (alert_id, tenant_id, previous_status, new_status,
                                      previous_severity, new_severity, changed_by, trace_id, sync_id)
    SELECT id, %(tenant_id)s, previous_status, new_status, previous_severity, new_severity,
           %(changed_by)s, %(trace_id)s, %(sync_id)s
    FROM changes
    RETURNING 1
)
SELECT (SELECT count(*) FROM created), (SELECT count(*) FROM updated),
       (SELECT count(*) FROM resolved), (SELECT count(*) FROM history)
