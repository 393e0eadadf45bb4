DROP INDEX IF EXISTS audit_events_chain_pos;
