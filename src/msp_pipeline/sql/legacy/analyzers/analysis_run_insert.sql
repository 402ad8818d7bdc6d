INSERT INTO analysis_runs (tenant_id, data_source_id, path, analyzer, sync_id, trace_id, trigger_event_at,
                           started_at, queries, rows_read, findings)
VALUES (%(tenant_id)s, %(data_source_id)s, 'legacy', %(analyzer)s, %(sync_id)s, %(trace_id)s,
        %(trigger_event_at)s, %(started_at)s, %(queries)s, %(rows_read)s, %(findings)s)
