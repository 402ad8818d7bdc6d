-- Processor: entities Graph reports as deleted; returns those marked now.
UPDATE entities
SET deleted_at = now(), sync_id = %(sync_id)s, last_seen_at = now(), updated_at = now()
WHERE data_source_id = %(data_source_id)s AND entity_type = %(entity_type)s
  AND external_id = ANY(%(external_ids)s::text[]) AND deleted_at IS NULL
RETURNING id, external_id
