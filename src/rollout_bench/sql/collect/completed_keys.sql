SELECT count(DISTINCT job_key) FROM job_runs WHERE status = 'completed' AND job_key = ANY(%s::text[])
