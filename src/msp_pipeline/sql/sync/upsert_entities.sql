-- Processor: insert new entities, rewrite only those whose data hash changed, touch the
-- rest; returns the external ids that were inserted or changed.
WITH incoming AS (
    SELECT * FROM unnest(%(external_ids)s::text[], %(hashes)s::text[], %(raw)s::jsonb[], %(normalized)s::jsonb[])
        AS i(external_id, data_hash, raw_data, normalized_data)
), upserted AS (
    INSERT INTO entities AS e (tenant_id, data_source_id, entity_type, external_id, data_hash, raw_data,
                               normalized_data, sync_id, last_seen_at, deleted_at)
    SELECT %(tenant_id)s, %(data_source_id)s, %(entity_type)s, i.external_id, i.data_hash, i.raw_data,
           i.normalized_data, %(sync_id)s, now(), NULL
    FROM incoming i
    ON CONFLICT (data_source_id, entity_type, external_id) DO UPDATE
        SET data_hash = excluded.data_hash, raw_data = excluded.raw_data,
            normalized_data = excluded.normalized_data, sync_id = excluded.sync_id,
            last_seen_at = now(), deleted_at = NULL, updated_at = now()
        WHERE e.data_hash IS DISTINCT FROM excluded.data_hash OR e.deleted_at IS NOT NULL
    RETURNING e.external_id
), touched AS (
    UPDATE entities e SET last_seen_at = now(), sync_id = %(sync_id)s
    FROM incoming i
    WHERE e.data_source_id = %(data_source_id)s AND e.entity_type = %(entity_type)s
      AND e.external_id = i.external_id AND e.data_hash = i.data_hash AND e.deleted_at IS NULL
    RETURNING e.id
)
SELECT external_id FROM upserted
