-- Linker: edges that other payloads of this data source declare towards the page's
-- entities (a group synced before its members; identities synced before their licenses).
SELECT 'groups' AS parent_type, g.external_id AS parent, 'identities' AS child_type, m AS child, 'member_of' AS rel
FROM graph_source g, jsonb_array_elements_text(g.payload -> 'members') m
WHERE g.data_source_id = %(data_source_id)s AND g.entity_type = 'groups' AND NOT g.deleted
  AND %(entity_type)s = 'identities' AND m = ANY(%(external_ids)s::text[])
UNION ALL
SELECT 'roles', r.external_id, 'identities', m, 'assigned_role'
FROM graph_source r, jsonb_array_elements_text(r.payload -> 'members') m
WHERE r.data_source_id = %(data_source_id)s AND r.entity_type = 'roles' AND NOT r.deleted
  AND %(entity_type)s = 'identities' AND m = ANY(%(external_ids)s::text[])
UNION ALL
SELECT 'licenses', l ->> 'skuId', 'identities', u.external_id, 'has_license'
FROM graph_source u, jsonb_array_elements(u.payload -> 'assignedLicenses') l
WHERE u.data_source_id = %(data_source_id)s AND u.entity_type = 'identities' AND NOT u.deleted
  AND %(entity_type)s = 'licenses' AND l ->> 'skuId' = ANY(%(external_ids)s::text[])
