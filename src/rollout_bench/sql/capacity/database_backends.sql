-- Backends of this database other than the asking one: their pids (for psutil's CPU) and,
-- for the active ones, what they wait on (NULL when running on a CPU or idle).
SELECT pid,
       CASE WHEN state = 'active' THEN wait_event_type || ':' || wait_event END AS wait
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
