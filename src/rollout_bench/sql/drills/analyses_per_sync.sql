-- Unified analyses per sync (each sync must be analysed exactly once).
SELECT sync_id, count(*) FROM analysis_runs
WHERE path = 'unified' AND sync_id LIKE 'drill-%%'
GROUP BY sync_id
