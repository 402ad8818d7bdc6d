INSERT INTO integrations (id, name, supported_types)
VALUES (%s, %s, %s::jsonb)
ON CONFLICT (id) DO NOTHING
