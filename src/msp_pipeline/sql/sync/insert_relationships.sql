-- Linker: new relationships (a batch of at most 100).
INSERT INTO entity_relationships (tenant_id, data_source_id, parent_entity_id, child_entity_id,
                                  relationship_type, sync_id)
SELECT %(tenant_id)s, %(data_source_id)s, parent, child, rel, %(sync_id)s
FROM unnest(%(parents)s::bigint[], %(children)s::bigint[], %(types)s::text[]) AS i(parent, child, rel)
ON CONFLICT (parent_entity_id, child_entity_id, relationship_type) DO NOTHING
