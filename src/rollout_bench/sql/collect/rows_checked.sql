-- How many rows the tenant isolation check looked at (its evidence).
SELECT (SELECT count(*) FROM entities) + (SELECT count(*) FROM entity_relationships)
       + (SELECT count(*) FROM entity_alerts)
