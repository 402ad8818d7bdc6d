SELECT a.tenant_id, e.entity_type, e.external_id, a.alert_type, a.severity, a.subject
FROM entity_alerts a
JOIN entities e ON e.id = a.entity_id
WHERE a.status = 'active'
