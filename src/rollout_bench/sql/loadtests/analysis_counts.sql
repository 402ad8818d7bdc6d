SELECT path, count(*) FROM analysis_runs GROUP BY path
