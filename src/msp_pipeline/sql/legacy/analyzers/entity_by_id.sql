-- ...and one get per membership inside it (N+1).
SELECT entity_type, external_id, normalized_data
FROM entities
WHERE tenant_id = %(tenant_id)s AND id = %(id)s
