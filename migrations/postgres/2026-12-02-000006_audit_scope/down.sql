DROP INDEX audit_events_scope;
ALTER TABLE audit_events DROP COLUMN jurisdiction_path;
