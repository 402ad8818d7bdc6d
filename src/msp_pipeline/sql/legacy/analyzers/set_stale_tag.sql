UPDATE entities
SET tags = array_append(array_remove(tags, 'Stale'), 'Stale')
WHERE tenant_id = %(tenant_id)s AND id = %(entity_id)s
