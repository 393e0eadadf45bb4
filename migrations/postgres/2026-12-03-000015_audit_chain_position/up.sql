-- The chain's positions, unique (a second sealer can never fork the chain).
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS audit_events_chain_pos ON audit_events (chain_pos);
