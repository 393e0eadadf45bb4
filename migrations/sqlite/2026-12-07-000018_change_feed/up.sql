-- The change feed (GET /api/v1/events, webhooks): an outbox written in the same transaction as
-- each change. SQLite has one writer at a time (BEGIN IMMEDIATE), which holds the lock from the
-- id's assignment to the commit, so ids commit in order and `tx` stays 0: readers order by
-- (tx, id) as on PostgreSQL. AUTOINCREMENT: an id is never handed out twice, even after
-- retention has emptied the table.
CREATE TABLE events (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    tx                BIGINT NOT NULL DEFAULT 0,
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

CREATE TABLE event_horizon (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    tx       BIGINT NOT NULL,
    event_id BIGINT NOT NULL
);
INSERT INTO event_horizon (id, tx, event_id) VALUES (1, 0, 0);
