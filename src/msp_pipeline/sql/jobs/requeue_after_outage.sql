-- A claimed legacy job whose run met a Postgres outage: back to pending, the attempt not
-- counted (the outage was not the job's fault), so the next poll after recovery runs it.
UPDATE scheduled_jobs
SET status = 'pending', attempts = greatest(attempts - 1, 0), error = %(error)s
WHERE id = %(id)s AND status = 'running'
