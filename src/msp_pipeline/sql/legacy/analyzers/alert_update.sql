UPDATE entity_alerts
SET severity = %(severity)s, message = %(message)s, updated_at = now()
WHERE id = %(id)s
