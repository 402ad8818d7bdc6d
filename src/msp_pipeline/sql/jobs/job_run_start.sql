INSERT INTO job_runs (job_key, path, tenant_id, data_source_id, entity_type, sync_id, attempt,
                      intended_at, enqueued_at, started_at)
VALUES (%(job_key)s, %(path)s, %(tenant_id)s, %(data_source_id)s, %(entity_type)s, %(sync_id)s,
        %(attempt)s, %(intended_at)s, %(enqueued_at)s, clock_timestamp())
RETURNING id
