-- Job attempts started inside a window (epoch seconds): work that ran during a fault.
SELECT count(*) FROM job_runs WHERE started_at BETWEEN to_timestamp(%s) AND to_timestamp(%s)
