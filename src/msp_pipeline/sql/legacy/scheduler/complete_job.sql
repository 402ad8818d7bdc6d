UPDATE scheduled_jobs SET status = 'completed', completed_at = clock_timestamp(), error = NULL WHERE id = %(id)s
