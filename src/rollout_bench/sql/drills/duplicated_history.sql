-- History rows written twice for the same change of the same alert in the same sync.
SELECT count(*) FROM (
    SELECT alert_id, new_status, new_severity, sync_id
    FROM entity_alert_history
    GROUP BY 1, 2, 3, 4
    HAVING count(*) > 1
) d
