-- One query per identity (the legacy policy analyzer's loop)...
SELECT parent_entity_id, relationship_type
FROM entity_relationships
WHERE tenant_id = %(tenant_id)s AND child_entity_id = %(identity_id)s
  AND relationship_type IN ('member_of', 'assigned_role')
