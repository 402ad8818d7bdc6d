-- A run is finished once: a late outage report must not turn a completed run into a failed one.
UPDATE job_runs
SET status = %(status)s, finished_at = clock_timestamp(), error = %(error)s
WHERE id = %(id)s AND finished_at IS NULL
