-- Deadline reminders and escalation (issue 12, SPEC §9): one row per subject (a hazard's
-- rectification deadline or a listing's deadline), kind and deadline, raised by the scheduler
-- (`reminders::scan`) when the Shanghai date reaches the deadline plus the kind's offset. The
-- unique index is what makes a reminder fire once whatever number of processes scan at the
-- same time; a moved deadline (an approved extension) is a new deadline and fires again.
-- The subject's units, enterprise and sector are copied so a scope reads its reminders
-- through an index, as it reads hazards.
CREATE TABLE reminders (
    id                BIGSERIAL PRIMARY KEY,
    kind              TEXT NOT NULL CHECK (kind IN ('due_soon', 'overdue', 'escalated')),
    subject_type      TEXT NOT NULL CHECK (subject_type IN ('hazard', 'listing')),
    subject_id        BIGINT NOT NULL,
    subject_code      TEXT NOT NULL,
    deadline          DATE NOT NULL,
    fire_on           DATE NOT NULL,
    city_code         TEXT NOT NULL,
    county_code       TEXT NOT NULL,
    jurisdiction_code TEXT NOT NULL,
    enterprise_id     BIGINT NOT NULL,
    sector_code       TEXT NOT NULL,
    acknowledged_by   BIGINT REFERENCES accounts (id),
    acknowledged_at   TIMESTAMP,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX reminders_once ON reminders (subject_type, subject_id, kind, deadline);
CREATE INDEX reminders_city ON reminders (city_code, id);
CREATE INDEX reminders_county ON reminders (county_code, id);
CREATE INDEX reminders_jurisdiction ON reminders (jurisdiction_code, id);
CREATE INDEX reminders_enterprise ON reminders (enterprise_id, id);
