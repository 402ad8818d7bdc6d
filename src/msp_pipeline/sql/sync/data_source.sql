-- Adapter: may this job run? Always one row: the job's tenant and data source, each NULL
-- when it does not exist.
SELECT t.status AS tenant_status, d.tenant_id, d.status, d.deleted_at IS NOT NULL AS deleted
FROM (SELECT 1) AS one
LEFT JOIN tenants t ON t.id = %(tenant_id)s
LEFT JOIN data_sources d ON d.id = %(data_source_id)s
