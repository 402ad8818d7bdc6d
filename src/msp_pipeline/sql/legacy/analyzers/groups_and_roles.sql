SELECT id, entity_type, external_id, normalized_data ->> 'name'
FROM entities
WHERE tenant_id = %(tenant_id)s AND data_source_id = %(data_source_id)s
  AND entity_type IN ('groups', 'roles') AND deleted_at IS NULL
