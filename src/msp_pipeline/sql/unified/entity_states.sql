-- Entity state from its active alerts (rules.entity_state, computed by the caller for the
-- entities with findings); every other live entity of the data source gets the default
-- state. Only rows whose state changes are written. The FULL JOIN in a materialized CTE
-- keeps a hash or merge join even with stale statistics (a nested loop over the findings
-- would be quadratic).
WITH states AS (
    SELECT s.entity_id, s.state
    FROM jsonb_to_recordset(%(states)s::jsonb) AS s(entity_id bigint, state text)
),
live AS (
    SELECT e.id
    FROM entities e
    WHERE e.tenant_id = %(tenant_id)s
      AND e.data_source_id = %(data_source_id)s
      AND e.deleted_at IS NULL
),
target AS MATERIALIZED (
    SELECT l.id, COALESCE(s.state, %(default_state)s) AS state
    FROM live l
    FULL JOIN states s ON s.entity_id = l.id
)
UPDATE entities e
SET state = t.state
FROM target t
WHERE e.id = t.id AND e.state <> t.state
