-- Context loader (phase 3), bulk query 2 of 2: group and role memberships of the tenant's
-- data source, as entity ids; the loader maps them to external ids with the entities of
-- query 1 (a membership whose end is deleted or not loaded is dropped there). One index
-- range scan, whatever the table statistics say (no entities x entities join to misplan).
SELECT r.relationship_type, r.parent_entity_id, r.child_entity_id
FROM entity_relationships r
WHERE r.tenant_id = %(tenant_id)s
  AND r.data_source_id = %(data_source_id)s
  AND r.relationship_type IN ('member_of', 'assigned_role')
