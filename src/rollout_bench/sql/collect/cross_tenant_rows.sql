-- Tenant isolation: rows whose tenant differs from the tenant of what they point at.
SELECT
  (SELECT count(*) FROM entities e JOIN data_sources d ON d.id = e.data_source_id
    WHERE d.tenant_id <> e.tenant_id) AS entities,
  (SELECT count(*) FROM entity_relationships r
     JOIN entities p ON p.id = r.parent_entity_id JOIN entities c ON c.id = r.child_entity_id
    WHERE p.tenant_id <> r.tenant_id OR c.tenant_id <> r.tenant_id) AS relationships,
  (SELECT count(*) FROM entity_alerts a JOIN entities e ON e.id = a.entity_id
    WHERE e.tenant_id <> a.tenant_id) AS alerts
