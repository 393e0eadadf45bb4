-- Hazards, their evidence and deadline extensions.
-- Keep in step with ../../postgres/2026-11-29-000002_hazards/up.sql (a test compares them).

-- One counter per "<county-level code>-<year>": hazard codes are never reused.
CREATE TABLE hazard_code_counters (
    prefix     TEXT PRIMARY KEY,
    last_value INTEGER NOT NULL
);

CREATE TABLE hazards (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    code                   TEXT NOT NULL UNIQUE,
    enterprise_id          BIGINT NOT NULL REFERENCES enterprises (id),
    jurisdiction_code      TEXT NOT NULL REFERENCES jurisdictions (code),
    -- The county-level unit (the prefix of the code): statistics group by it.
    county_code            TEXT NOT NULL REFERENCES jurisdictions (code),
    sector_code            TEXT NOT NULL REFERENCES sectors (code),
    title                  TEXT NOT NULL,
    description            TEXT NOT NULL,
    location               TEXT,
    level                  TEXT NOT NULL CHECK (level IN ('general', 'major')),
    source                 TEXT NOT NULL CHECK (source IN ('self_inspection', 'regulator_inspection', 'public_report', 'other')),
    nature                 TEXT CHECK (nature IN ('unsafe_condition', 'unsafe_act', 'management_defect')),
    standard_ref           TEXT,
    major_reason           TEXT,
    discovered_on          DATE NOT NULL,
    responsible_person     TEXT,
    rectification_deadline DATE,
    -- The deadline, or 9999-12-31 when none is set: a non-null key for sorting and paging.
    deadline_key           DATE NOT NULL,
    measures               TEXT,
    funds_10k_yuan         REAL,
    acceptance_criteria    TEXT,
    major_report           TEXT,
    governance_plan        TEXT,
    rectification_note     TEXT,
    status                 TEXT NOT NULL CHECK (status IN ('reported', 'rectifying', 'pending_acceptance', 'closed', 'void')),
    listed                 BOOLEAN NOT NULL,
    reported_by            BIGINT NOT NULL REFERENCES accounts (id),
    submitted_by           BIGINT REFERENCES accounts (id),
    closed_at              TIMESTAMP,
    created_at             TIMESTAMP NOT NULL,
    updated_at             TIMESTAMP NOT NULL,
    version                BIGINT NOT NULL
);
CREATE INDEX hazards_jurisdiction_id ON hazards (jurisdiction_code, id);
CREATE INDEX hazards_enterprise_id ON hazards (enterprise_id, id);
CREATE INDEX hazards_status_deadline ON hazards (status, deadline_key, id);
CREATE INDEX hazards_deadline ON hazards (deadline_key, id);
CREATE INDEX hazards_updated_at ON hazards (updated_at, id);
CREATE INDEX hazards_sector_id ON hazards (sector_code, id);
CREATE INDEX hazards_listed_id ON hazards (listed, id);

-- Deadline extension requests, for hazards and (later) listings alike.
CREATE TABLE deadline_extensions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    subject_type  TEXT NOT NULL CHECK (subject_type IN ('hazard', 'listing')),
    subject_id    BIGINT NOT NULL,
    old_deadline  DATE,
    new_deadline  DATE NOT NULL,
    reason        TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied')),
    requested_by  BIGINT NOT NULL REFERENCES accounts (id),
    requested_at  TIMESTAMP NOT NULL,
    decided_by    BIGINT REFERENCES accounts (id),
    decided_at    TIMESTAMP,
    decision_note TEXT
);
CREATE INDEX deadline_extensions_subject ON deadline_extensions (subject_type, subject_id, id);
-- At most one pending request per subject, even when two clients ask at once.
CREATE UNIQUE INDEX deadline_extensions_one_pending ON deadline_extensions (subject_type, subject_id) WHERE status = 'pending';

CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    hazard_id    BIGINT NOT NULL REFERENCES hazards (id),
    sha256       TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    stage        TEXT NOT NULL CHECK (stage IN ('before', 'after', 'plan', 'acceptance', 'other')),
    file_name    TEXT,
    uploaded_by  BIGINT NOT NULL REFERENCES accounts (id),
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX attachments_hazard ON attachments (hazard_id, id);
