-- How many times pg_stat_statements has evicted entries (pg_stat_statements.max reached)
-- since its last reset: if it moved during a run, that run's counts are incomplete.
SELECT dealloc FROM pg_stat_statements_info
