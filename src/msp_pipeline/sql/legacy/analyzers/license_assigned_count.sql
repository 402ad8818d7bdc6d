-- One more per license: the assignment count, recounted.
SELECT count(*)
FROM entity_relationships
WHERE tenant_id = %(tenant_id)s AND parent_entity_id = %(license_id)s AND relationship_type = 'has_license'
