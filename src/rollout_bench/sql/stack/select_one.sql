-- Health check: the server answers a query.
SELECT 1
