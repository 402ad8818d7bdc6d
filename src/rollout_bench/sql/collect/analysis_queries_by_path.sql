-- Every analysis's statement count, warm-up included (pg_stat_statements saw those too).
SELECT path, sum(queries)::bigint FROM analysis_runs GROUP BY path
