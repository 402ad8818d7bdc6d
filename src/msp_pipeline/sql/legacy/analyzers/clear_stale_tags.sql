UPDATE entities
SET tags = array_remove(tags, 'Stale')
WHERE tenant_id = %(tenant_id)s AND data_source_id = %(data_source_id)s AND entity_type = 'identities'
  AND 'Stale' = ANY(tags) AND NOT (id = ANY(%(keep_ids)s::bigint[]))
