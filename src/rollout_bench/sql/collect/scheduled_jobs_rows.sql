SELECT count(*) FROM scheduled_jobs
