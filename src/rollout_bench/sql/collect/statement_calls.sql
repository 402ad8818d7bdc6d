-- Calls per tagged pipeline statement (`/* area/name */ ...`) in this database.
SELECT substring(s.query FROM '^/\* ([a-z0-9_/.-]+) \*/') AS name, sum(s.calls)::bigint AS calls
FROM pg_stat_statements s
JOIN pg_database d ON d.oid = s.dbid
WHERE d.datname = current_database() AND s.query LIKE '/* %'
GROUP BY 1
