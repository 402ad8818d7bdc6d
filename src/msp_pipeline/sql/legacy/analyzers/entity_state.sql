UPDATE entities e
SET state = CASE
      WHEN EXISTS (SELECT 1 FROM entity_alerts a WHERE a.entity_id = e.id AND a.status = 'active'
                   AND a.severity IN ('critical', 'high')) THEN 'critical'
      WHEN EXISTS (SELECT 1 FROM entity_alerts a WHERE a.entity_id = e.id AND a.status = 'active'
                   AND a.severity = 'medium') THEN 'warn'
      WHEN EXISTS (SELECT 1 FROM entity_alerts a WHERE a.entity_id = e.id AND a.status = 'active'
                   AND a.severity = 'low') THEN 'low'
      ELSE 'normal' END
WHERE e.tenant_id = %(tenant_id)s AND e.id = %(entity_id)s
