SELECT parent_entity_id, child_entity_id, relationship_type
FROM entity_relationships
WHERE parent_entity_id = ANY(%(parent_ids)s::bigint[])
