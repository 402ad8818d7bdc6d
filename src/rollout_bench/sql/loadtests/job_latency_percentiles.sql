SELECT path, count(*),
       percentile_cont(0.50) WITHIN GROUP (ORDER BY ms),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY ms),
       percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)
FROM (SELECT path, extract(epoch FROM started_at - coalesce(intended_at, enqueued_at)) * 1000 AS ms
      FROM job_runs WHERE attempt = 1) j
GROUP BY path
