UPDATE entity_alerts
SET status = 'resolved', resolved_at = now(), updated_at = now()
WHERE id = %(id)s
