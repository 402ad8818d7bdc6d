-- One query per license: who holds it.
SELECT c.external_id
FROM entity_relationships r
JOIN entities c ON c.id = r.child_entity_id
WHERE r.tenant_id = %(tenant_id)s AND r.parent_entity_id = %(license_id)s
  AND r.relationship_type = 'has_license' AND c.deleted_at IS NULL
