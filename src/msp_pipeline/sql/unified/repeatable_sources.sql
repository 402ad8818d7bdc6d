-- Active data sources of active tenants with each entity type their integration supports
-- (rate_minutes defaults to 60, priority to 5): one repeatable BullMQ job each.
SELECT ds.tenant_id, ds.id, t.type, COALESCE(t.rate_minutes, 60), COALESCE(t.priority, 5)
FROM data_sources ds
JOIN tenants tn ON tn.id = ds.tenant_id
JOIN integrations i ON i.id = ds.integration_id
CROSS JOIN LATERAL jsonb_to_recordset(i.supported_types) AS t(type text, priority integer, rate_minutes integer)
WHERE ds.status = 'active'
  AND ds.deleted_at IS NULL
  AND tn.status = 'active'
ORDER BY ds.tenant_id, ds.id, t.type
