-- Every committed analysis of a drill sync: which path and analyzer analysed which sync.
SELECT tenant_id, sync_id, path, analyzer, extract(epoch FROM committed_at)
FROM analysis_runs
WHERE sync_id LIKE 'drill-%%'
