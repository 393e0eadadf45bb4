DROP INDEX IF EXISTS audit_events_unsealed;
