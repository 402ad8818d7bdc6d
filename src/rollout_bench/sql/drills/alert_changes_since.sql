-- Alert changes of the given tenants since a moment, by alert manager and kind of change.
SELECT h.tenant_id, h.changed_by,
       CASE WHEN h.previous_status IS NULL THEN 'created'
            WHEN h.new_status = 'resolved' THEN 'resolved'
            ELSE 'updated' END AS change,
       count(*)
FROM entity_alert_history h
WHERE h.tenant_id = ANY(%s) AND h.changed_at > to_timestamp(%s)
GROUP BY 1, 2, 3
