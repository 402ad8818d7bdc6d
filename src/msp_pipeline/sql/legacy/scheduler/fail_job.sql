UPDATE scheduled_jobs
SET status = CASE WHEN attempts >= attempts_max THEN 'broken' ELSE 'failed' END,
    next_retry_at = clock_timestamp() + make_interval(secs => %(retry_after_s)s),
    error = %(error)s
WHERE id = %(id)s
RETURNING status
