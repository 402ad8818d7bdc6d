-- Jobs with more than one completed attempt (at-least-once delivery after a kill).
SELECT job_key FROM job_runs WHERE status = 'completed' GROUP BY job_key HAVING count(*) > 1
