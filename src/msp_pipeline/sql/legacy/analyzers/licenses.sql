SELECT id, external_id, normalized_data
FROM entities
WHERE tenant_id = %(tenant_id)s AND data_source_id = %(data_source_id)s
  AND entity_type = 'licenses' AND deleted_at IS NULL
