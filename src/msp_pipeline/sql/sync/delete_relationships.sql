-- Linker: relationships a page's payloads no longer declare (a batch of at most 100).
DELETE FROM entity_relationships r
USING unnest(%(parents)s::bigint[], %(children)s::bigint[], %(types)s::text[]) AS d(parent, child, rel)
WHERE r.parent_entity_id = d.parent AND r.child_entity_id = d.child AND r.relationship_type = d.rel
