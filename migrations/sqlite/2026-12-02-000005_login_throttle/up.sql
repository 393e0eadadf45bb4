-- Failed-login throttling in the database, so every node behind a load balancer sees the same
-- locks and counts. One row per key: `user:<normalised username>` (whether or not such an
-- account exists, so a lock reveals nothing) and `addr:<client address>`.
CREATE TABLE login_throttle (
    key               TEXT PRIMARY KEY,
    failures          INTEGER NOT NULL,
    window_started_at TIMESTAMP NOT NULL,
    locked_until      TIMESTAMP
);
CREATE INDEX login_throttle_window ON login_throttle (window_started_at);

-- The per-account counters this table replaces.
ALTER TABLE accounts DROP COLUMN failed_logins;
ALTER TABLE accounts DROP COLUMN locked_until;
