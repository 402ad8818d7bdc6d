-- Linker: every relationship of entities that were deleted (either end).
DELETE FROM entity_relationships
WHERE parent_entity_id = ANY(%(entity_ids)s::bigint[]) OR child_entity_id = ANY(%(entity_ids)s::bigint[])
