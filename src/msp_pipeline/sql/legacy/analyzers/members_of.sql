-- One query per group or role (the legacy MFA analyzer's loop).
SELECT c.external_id
FROM entity_relationships r
JOIN entities c ON c.id = r.child_entity_id
WHERE r.tenant_id = %(tenant_id)s AND r.parent_entity_id = %(parent_id)s AND c.deleted_at IS NULL
