-- Linker: ids of the live entities at either end of the page's relationships.
SELECT e.entity_type, e.external_id, e.id
FROM entities e
JOIN unnest(%(types)s::text[], %(external_ids)s::text[]) AS k(entity_type, external_id)
  ON e.entity_type = k.entity_type AND e.external_id = k.external_id
WHERE e.data_source_id = %(data_source_id)s AND e.deleted_at IS NULL
