UPDATE graph_source
SET payload = jsonb_set(payload, '{accountEnabled}', to_jsonb(%s::boolean)), updated_at = now()
WHERE tenant_id = %s AND entity_type = 'identities' AND external_id = %s
