-- The stale analyzer's single query: identities with their admin role flag.
SELECT e.id, e.external_id, e.normalized_data, e.tags,
       EXISTS (SELECT 1 FROM entity_relationships r JOIN entities role ON role.id = r.parent_entity_id
               WHERE r.child_entity_id = e.id AND r.relationship_type = 'assigned_role'
                 AND role.normalized_data ->> 'name' ILIKE '%%administrator%%') AS admin
FROM entities e
WHERE e.tenant_id = %(tenant_id)s AND e.data_source_id = %(data_source_id)s
  AND e.entity_type = 'identities' AND e.deleted_at IS NULL
