-- Serialises alert writes of one tenant's data source until the transaction ends, so two
-- analyses of the same tenant never interleave their create/update/resolve.
SELECT pg_advisory_xact_lock(hashtextextended(%(tenant_id)s || '/' || %(data_source_id)s, 7200432))
