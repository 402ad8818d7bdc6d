-- Active alerts sharing one (entity, alert type, subject): must be none.
SELECT a.tenant_id, a.entity_id, a.alert_type, a.subject, count(*)
FROM entity_alerts a
WHERE a.status = 'active'
GROUP BY a.tenant_id, a.entity_id, a.alert_type, a.subject
HAVING count(*) > 1
