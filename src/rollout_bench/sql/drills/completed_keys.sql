-- Which of these job keys have a completed attempt.
SELECT DISTINCT job_key FROM job_runs WHERE status = 'completed' AND job_key = ANY(%s)
