SELECT external_id
FROM graph_source
WHERE tenant_id = %s AND entity_type = 'identities' AND NOT deleted
  AND (payload ->> 'accountEnabled')::boolean = %s
ORDER BY external_id
