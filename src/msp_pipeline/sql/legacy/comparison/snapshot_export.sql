-- Comparison mode: the snapshot the unified side holds, for the legacy side to import.
SELECT pg_export_snapshot()
