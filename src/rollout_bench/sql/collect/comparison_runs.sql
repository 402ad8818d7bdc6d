-- Comparison mode: the record of every compared analysis (the unified row's comparison),
-- warm-up syncs left out.
SELECT tenant_id, sync_id, comparison
FROM analysis_runs
WHERE path = 'unified' AND comparison IS NOT NULL AND sync_id NOT LIKE %(warmup)s
ORDER BY committed_at, id
