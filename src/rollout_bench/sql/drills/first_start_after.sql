SELECT extract(epoch FROM min(started_at)) FROM job_runs WHERE started_at > to_timestamp(%s) AND path = %s
