-- Comparison mode: the active alerts the unified alert manager would reconcile (the
-- `current_alerts` of unified/alerts_apply), read in the shared snapshot so its intended
-- changes can be planned without writing.
SELECT a.id, a.entity_id, a.alert_type, a.subject, a.severity, a.message
FROM entity_alerts a
WHERE a.tenant_id = %(tenant_id)s
  AND a.data_source_id = %(data_source_id)s
  AND a.status = 'active'
  AND a.alert_type = ANY(%(alert_types)s)
