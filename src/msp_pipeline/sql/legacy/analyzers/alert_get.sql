SELECT id, severity, message
FROM entity_alerts
WHERE tenant_id = %(tenant_id)s AND entity_id = %(entity_id)s AND alert_type = %(alert_type)s
  AND subject = %(subject)s AND status = 'active'
