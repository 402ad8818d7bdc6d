-- Runner, after the final batch of an entity type: when it was synced, and by which sync.
UPDATE data_sources
SET last_sync_at = jsonb_set(last_sync_at, ARRAY[%(entity_type)s::text], to_jsonb(now())),
    current_sync_id = %(sync_id)s
WHERE id = %(data_source_id)s
