-- What the sealer reads: the events without a chain position yet, in seq order.
CREATE INDEX CONCURRENTLY IF NOT EXISTS audit_events_unsealed ON audit_events (seq) WHERE chain_pos IS NULL;
