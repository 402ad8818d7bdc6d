-- Usable only when the library is preloaded and the extension exists in this database.
SELECT count(*) FROM pg_stat_statements
