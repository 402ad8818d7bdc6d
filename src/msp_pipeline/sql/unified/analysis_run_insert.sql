-- One row per committed unified analysis, in the same transaction as its alerts.
INSERT INTO analysis_runs (tenant_id, data_source_id, path, analyzer, sync_id, trace_id,
                           trigger_event_at, started_at, queries, rows_read, findings, comparison)
VALUES (%(tenant_id)s, %(data_source_id)s, 'unified', 'unified', %(sync_id)s, %(trace_id)s,
        %(trigger_event_at)s, %(started_at)s, %(queries)s, %(rows_read)s, %(findings)s,
        %(comparison)s)
