UPDATE job_runs
SET status = %(status)s, finished_at = clock_timestamp(), error = %(error)s
WHERE id = %(id)s
