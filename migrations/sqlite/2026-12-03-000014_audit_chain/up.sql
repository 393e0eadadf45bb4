-- A tamper-evident audit log: the sealer (db::audit_chain, a background job) gives each
-- committed event, in turn, a position in one chain and the SHA-256 of the previous link's hash
-- and the event's own columns. Events are written as before (no lock on a chain head in the
-- write path); `hazard-registry audit-verify` recomputes the chain and names the first broken
-- link. Old binaries keep writing events: the new columns are nullable and the sealer picks
-- their events up too. The indexes come in the next two migrations (on PostgreSQL built
-- CONCURRENTLY, one statement each, so writers are not held up on a large log).
ALTER TABLE audit_events ADD COLUMN chain_pos BIGINT;
ALTER TABLE audit_events ADD COLUMN chain_hash TEXT;
