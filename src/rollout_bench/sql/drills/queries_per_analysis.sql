SELECT path, min(queries), max(queries) FROM analysis_runs GROUP BY path
