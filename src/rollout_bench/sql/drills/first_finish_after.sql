-- The first job attempt that completed after a moment (epoch seconds): the drill's recovery.
SELECT extract(epoch FROM min(finished_at)) FROM job_runs
WHERE status = 'completed' AND finished_at > to_timestamp(%s)
