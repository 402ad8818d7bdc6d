-- Context loader (phase 3), bulk query 1 of 2: every live entity of one tenant's data
-- source, all types at once.
SELECT id, entity_type, external_id, normalized_data, tags
FROM entities
WHERE tenant_id = %(tenant_id)s
  AND data_source_id = %(data_source_id)s
  AND deleted_at IS NULL
  AND entity_type = ANY(%(entity_types)s)
