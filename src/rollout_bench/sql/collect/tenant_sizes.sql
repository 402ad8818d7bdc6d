SELECT tenant_id, count(*) FILTER (WHERE entity_type = 'identities') AS identities
FROM entities
WHERE deleted_at IS NULL
GROUP BY tenant_id
