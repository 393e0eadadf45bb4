-- Webhooks (SPEC §8): subscriptions to the change feed, each with its own position in it
-- (cursor_tx, cursor_id: what has been fanned out into deliveries), a delivery per event with
-- its retry schedule and lease, and a log of every attempt.
CREATE TABLE webhooks (
    id                         INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id                   BIGINT NOT NULL REFERENCES accounts (id),
    url                        TEXT NOT NULL,
    description                TEXT,
    event_types                TEXT NOT NULL,
    secret                     TEXT NOT NULL,
    previous_secret            TEXT,
    previous_secret_expires_at TIMESTAMP,
    enabled                    BOOLEAN NOT NULL,
    disabled_reason            TEXT,
    consecutive_failures       INTEGER NOT NULL DEFAULT 0,
    cursor_tx                  BIGINT NOT NULL,
    cursor_id                  BIGINT NOT NULL,
    created_at                 TIMESTAMP NOT NULL,
    updated_at                 TIMESTAMP NOT NULL,
    version                    BIGINT NOT NULL
);
CREATE INDEX webhooks_owner ON webhooks (owner_id, id);
CREATE INDEX webhooks_enabled ON webhooks (id) WHERE enabled;

-- The payload is the event as first delivered, so every retry (and a redelivery) sends the
-- same bytes under the same webhook-id, even after retention removed the event.
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id      BIGINT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id        BIGINT NOT NULL,
    subject_key     TEXT NOT NULL,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until     TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_subject ON webhook_deliveries (webhook_id, subject_key, id) WHERE state = 'pending';

CREATE TABLE webhook_attempts (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id       BIGINT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    delivery_id      BIGINT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    event_id         BIGINT NOT NULL,
    attempt          INTEGER NOT NULL,
    status_code      INTEGER,
    duration_ms      BIGINT NOT NULL,
    error            TEXT,
    response_excerpt TEXT,
    at               TIMESTAMP NOT NULL
);
CREATE INDEX webhook_attempts_webhook ON webhook_attempts (webhook_id, id);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
