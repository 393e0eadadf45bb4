DROP INDEX audit_events_unsealed;
DROP INDEX audit_events_chain_pos;
ALTER TABLE audit_events DROP COLUMN chain_hash;
ALTER TABLE audit_events DROP COLUMN chain_pos;
