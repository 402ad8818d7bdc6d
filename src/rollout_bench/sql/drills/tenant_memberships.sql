-- One tenant's group and role memberships as entity ids (the context loader's query 2).
SELECT relationship_type, parent_entity_id, child_entity_id
FROM entity_relationships
WHERE tenant_id = %(tenant_id)s AND data_source_id = %(data_source_id)s
  AND relationship_type IN ('member_of', 'assigned_role')
