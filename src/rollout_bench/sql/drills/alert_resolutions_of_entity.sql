-- Who resolved the alerts of one entity (tenant, external id, alert types), and when.
SELECT a.alert_type, h.changed_by, extract(epoch FROM h.changed_at)
FROM entity_alert_history h
JOIN entity_alerts a ON a.id = h.alert_id
JOIN entities e ON e.id = a.entity_id
WHERE a.tenant_id = %s AND e.external_id = %s AND a.alert_type = ANY(%s) AND h.new_status = 'resolved'
ORDER BY h.changed_at
