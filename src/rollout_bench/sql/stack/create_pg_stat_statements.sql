-- The gate cross-checks its query counts with pg_stat_statements (needs shared_preload_libraries).
CREATE EXTENSION IF NOT EXISTS pg_stat_statements
