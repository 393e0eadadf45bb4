-- The change feed (GET /api/v1/events, webhooks): an outbox written in the same transaction as
-- each change. `tx` is the writing transaction's id (xid8, as a number). Readers order by
-- (tx, id) and take only events of transactions older than every transaction still running
-- (tx < pg_snapshot_xmin(pg_current_snapshot())): those are final, and every later event gets
-- a larger tx, so a reader following its cursor never passes an event that commits later.
-- The scope columns are the subject's (for accounts: its jurisdiction, or its enterprise's), so
-- a reader's current scope filters the feed with one equality, as the lists do.
CREATE TABLE events (
    id                BIGSERIAL PRIMARY KEY,
    tx                BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    type              TEXT NOT NULL,
    occurred_at       TIMESTAMP NOT NULL,
    actor_id          BIGINT REFERENCES accounts (id),
    subject_type      TEXT NOT NULL,
    subject_id        BIGINT NOT NULL,
    audience          TEXT NOT NULL CHECK (audience IN ('regulated', 'lists', 'accounts')),
    city_code         TEXT NOT NULL,
    county_code       TEXT NOT NULL,
    jurisdiction_code TEXT NOT NULL,
    enterprise_id     BIGINT,
    sector_code       TEXT,
    data              TEXT NOT NULL
);
CREATE INDEX events_position ON events (tx, id);
CREATE INDEX events_city ON events (city_code, tx, id);
CREATE INDEX events_county ON events (county_code, tx, id);
CREATE INDEX events_jurisdiction ON events (jurisdiction_code, tx, id);
CREATE INDEX events_enterprise ON events (enterprise_id, tx, id) WHERE enterprise_id IS NOT NULL;
-- A reader (or a webhook) that asks for a few rare types: their events in feed order.
CREATE INDEX events_type ON events (type, tx, id);

-- The position up to which events have been removed by retention: a cursor before it has
-- missed events (410 cursor_expired).
CREATE TABLE event_horizon (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    tx       BIGINT NOT NULL,
    event_id BIGINT NOT NULL
);
INSERT INTO event_horizon (id, tx, event_id) VALUES (1, 0, 0);
