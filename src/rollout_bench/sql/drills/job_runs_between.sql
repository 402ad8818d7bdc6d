-- First attempts of sync jobs started in a window (epoch seconds): which path ran each job
-- of each tenant (the gradual-rollback drill's cohort and switch-time evidence).
SELECT job_key, tenant_id, path, extract(epoch FROM started_at)
FROM job_runs
WHERE attempt = 1 AND started_at > to_timestamp(%s) AND started_at <= to_timestamp(%s)
