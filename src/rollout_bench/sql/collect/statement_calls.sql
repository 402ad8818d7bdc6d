-- Every pg_stat_statements entry of this database: its text and calls. The harness matches
-- the texts to the pipeline's statement files itself (collect/statements.py), because
-- PostgreSQL 18 keeps no leading comment and equal parse trees share one entry.
SELECT s.query, s.calls::bigint
FROM pg_stat_statements s
JOIN pg_database d ON d.oid = s.dbid
WHERE d.datname = current_database()
