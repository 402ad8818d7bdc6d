-- Linker, the one bulk relationship read of a page: every relationship with a page
-- entity at either end (the set arithmetic happens in memory).
SELECT parent_entity_id, child_entity_id, relationship_type
FROM entity_relationships
WHERE parent_entity_id = ANY(%(entity_ids)s::bigint[]) OR child_entity_id = ANY(%(entity_ids)s::bigint[])
