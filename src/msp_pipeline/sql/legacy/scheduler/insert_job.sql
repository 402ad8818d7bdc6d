INSERT INTO scheduled_jobs (tenant_id, data_source_id, action, payload, priority, scheduled_at)
VALUES (%(tenant_id)s, %(data_source_id)s, %(action)s, %(payload)s, %(priority)s, now())
