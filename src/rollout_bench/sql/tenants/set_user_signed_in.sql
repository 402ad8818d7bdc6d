UPDATE graph_source
SET payload = jsonb_set(payload, '{signInActivity,lastSignInDateTime}',
                        to_jsonb(to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))),
    updated_at = now()
WHERE tenant_id = %s AND entity_type = 'identities' AND external_id = %s
