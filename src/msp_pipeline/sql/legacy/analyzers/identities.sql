SELECT id, external_id, normalized_data, tags
FROM entities
WHERE tenant_id = %(tenant_id)s AND data_source_id = %(data_source_id)s
  AND entity_type = 'identities' AND deleted_at IS NULL
ORDER BY id
