-- One tenant's live entities as the rules read them (the unified context loader's query 1).
SELECT id, entity_type, external_id, normalized_data, tags
FROM entities
WHERE tenant_id = %(tenant_id)s AND data_source_id = %(data_source_id)s AND deleted_at IS NULL
