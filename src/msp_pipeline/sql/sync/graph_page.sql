-- Adapter: one page of "Microsoft Graph", keyset-paginated by external id.
SELECT external_id, payload, deleted
FROM graph_source
WHERE data_source_id = %(data_source_id)s AND entity_type = %(entity_type)s AND external_id > %(cursor)s
ORDER BY external_id
LIMIT %(limit)s
