-- Comparison mode: the first statement of the snapshot both implementations read (one
-- REPEATABLE READ, read-only transaction; the legacy side imports it). Tagged apart from both
-- paths' analysis statements so each path's pg_stat_statements cross-check stays exact.
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY
