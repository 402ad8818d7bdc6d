INSERT INTO entity_alerts (tenant_id, entity_id, data_source_id, alert_type, subject, severity, message)
VALUES (%(tenant_id)s, %(entity_id)s, %(data_source_id)s, %(alert_type)s, %(subject)s, %(severity)s, %(message)s)
RETURNING id
