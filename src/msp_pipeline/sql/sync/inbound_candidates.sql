-- Linker: payloads of other entity types that may declare a relationship towards the
-- page's entities (group or role members, policy includeUsers/includeGroups, identity
-- assignedLicenses). A prefilter only: model.relationships_of decides what they declare.
SELECT entity_type, external_id, payload
FROM graph_source
WHERE data_source_id = %(data_source_id)s AND NOT deleted
  AND entity_type = ANY(%(declaring_types)s::text[])
  AND (payload -> 'members' ?| %(external_ids)s::text[]
       OR payload #> '{conditions,users,includeUsers}' ?| %(external_ids)s::text[]
       OR payload #> '{conditions,users,includeGroups}' ?| %(external_ids)s::text[]
       OR EXISTS (SELECT 1
                  FROM jsonb_array_elements(CASE WHEN jsonb_typeof(payload -> 'assignedLicenses') = 'array'
                                                 THEN payload -> 'assignedLicenses' ELSE '[]'::jsonb END) AS l
                  WHERE l ->> 'skuId' = ANY(%(external_ids)s::text[])))
ORDER BY entity_type, external_id
