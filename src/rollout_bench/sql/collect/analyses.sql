SELECT path, analyzer, tenant_id, sync_id, queries, rows_read, findings,
       extract(epoch FROM committed_at - coalesce(trigger_event_at, started_at)) AS analysis_s,
       extract(epoch FROM committed_at - started_at) AS compute_s,
       committed_at, comparison
FROM analysis_runs
WHERE sync_id NOT LIKE %(warmup)s
ORDER BY committed_at
