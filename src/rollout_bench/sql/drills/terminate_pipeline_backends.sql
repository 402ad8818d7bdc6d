-- Kill every backend of the run's database but this one (the pipeline's connections);
-- each pipeline process names its connections pipeline-<role>-<n> (PGAPPNAME).
SELECT pg_terminate_backend(pid), application_name
FROM pg_stat_activity
WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend'
