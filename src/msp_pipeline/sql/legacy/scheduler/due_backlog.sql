SELECT count(*) FROM scheduled_jobs
WHERE status IN ('pending', 'failed') AND attempts < attempts_max AND scheduled_at <= now()
