-- Active alerts of this analyzer's types, on the given entities (or all when NULL).
SELECT a.id, a.entity_id, a.alert_type, a.subject, a.severity
FROM entity_alerts a
WHERE a.tenant_id = %(tenant_id)s AND a.status = 'active' AND a.alert_type = ANY(%(alert_types)s::text[])
  AND (%(entity_ids)s::bigint[] IS NULL OR a.entity_id = ANY(%(entity_ids)s::bigint[]))
