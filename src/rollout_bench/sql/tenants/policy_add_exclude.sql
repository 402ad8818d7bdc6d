UPDATE graph_source
SET payload = jsonb_set(payload, '{conditions,users,excludeUsers}',
                        (payload #> '{conditions,users,excludeUsers}') || to_jsonb(%(user)s::text)),
    updated_at = now()
WHERE tenant_id = %(tenant_id)s AND entity_type = 'policies' AND payload ->> 'displayName' = %(policy)s
  AND NOT (payload #> '{conditions,users,excludeUsers}') ? %(user)s
