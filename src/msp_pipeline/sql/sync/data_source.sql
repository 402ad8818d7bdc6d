SELECT d.tenant_id, d.status, d.deleted_at IS NOT NULL AS deleted, t.status AS tenant_status
FROM data_sources d
JOIN tenants t ON t.id = d.tenant_id
WHERE d.id = %s
