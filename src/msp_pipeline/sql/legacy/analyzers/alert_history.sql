INSERT INTO entity_alert_history (alert_id, tenant_id, previous_status, new_status, previous_severity,
                                  new_severity, changed_by, trace_id, sync_id)
VALUES (%(alert_id)s, %(tenant_id)s, %(previous_status)s, %(new_status)s, %(previous_severity)s,
        %(new_severity)s, 'legacy-alert-manager', %(trace_id)s, %(sync_id)s)
