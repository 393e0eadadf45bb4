-- Listed supervision (挂牌督办), the two lists (两个清单) and their period submissions.
-- Keep in step with ../../postgres/2026-11-29-000003_supervision/up.sql (a test compares them).

CREATE TABLE listings (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    hazard_id         BIGINT NOT NULL REFERENCES hazards (id),
    level             TEXT NOT NULL CHECK (level IN ('province', 'city', 'county')),
    authority_code    TEXT NOT NULL REFERENCES jurisdictions (code),
    notice_no         TEXT NOT NULL,
    requirements      TEXT NOT NULL,
    responsible_unit  TEXT NOT NULL,
    deadline          DATE NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('listed', 'delisted', 'cancelled')),
    -- Copied from the hazard, so scope is enforced in the listing query itself.
    enterprise_id     BIGINT NOT NULL REFERENCES enterprises (id),
    jurisdiction_code TEXT NOT NULL REFERENCES jurisdictions (code),
    sector_code       TEXT NOT NULL REFERENCES sectors (code),
    listed_by         BIGINT NOT NULL REFERENCES accounts (id),
    listed_at         TIMESTAMP NOT NULL,
    delisted_by       BIGINT REFERENCES accounts (id),
    delisted_at       TIMESTAMP,
    delisting_note    TEXT,
    cancelled_by      BIGINT REFERENCES accounts (id),
    cancelled_at      TIMESTAMP,
    cancel_reason     TEXT,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    version           BIGINT NOT NULL
);
-- At most one active listing per hazard.
CREATE UNIQUE INDEX listings_one_active ON listings (hazard_id) WHERE status = 'listed';
CREATE INDEX listings_jurisdiction_id ON listings (jurisdiction_code, id);
CREATE INDEX listings_status_deadline ON listings (status, deadline, id);
CREATE INDEX listings_updated_at ON listings (updated_at, id);
CREATE INDEX listings_hazard ON listings (hazard_id, id);

CREATE TABLE problem_items (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_jurisdiction_code TEXT NOT NULL REFERENCES jurisdictions (code),
    department_id           BIGINT REFERENCES departments (id),
    sector_code             TEXT REFERENCES sectors (code),
    title                   TEXT NOT NULL,
    description             TEXT NOT NULL,
    responsible_unit        TEXT NOT NULL,
    deadline                DATE NOT NULL,
    status                  TEXT NOT NULL CHECK (status IN ('open', 'in_progress', 'done', 'cancelled')),
    created_at              TIMESTAMP NOT NULL,
    updated_at              TIMESTAMP NOT NULL,
    version                 BIGINT NOT NULL
);
CREATE INDEX problem_items_owner ON problem_items (owner_jurisdiction_code, id);
CREATE INDEX problem_items_updated_at ON problem_items (updated_at, id);

CREATE TABLE problem_item_hazards (
    problem_item_id BIGINT NOT NULL REFERENCES problem_items (id),
    hazard_id       BIGINT NOT NULL REFERENCES hazards (id),
    PRIMARY KEY (problem_item_id, hazard_id)
);

CREATE TABLE measure_items (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_jurisdiction_code TEXT NOT NULL REFERENCES jurisdictions (code),
    department_id           BIGINT REFERENCES departments (id),
    title                   TEXT NOT NULL,
    kind                    TEXT NOT NULL CHECK (kind IN ('law', 'regulation', 'standard', 'normative_document', 'mechanism', 'internal_system')),
    doc_no                  TEXT,
    lead_unit               TEXT NOT NULL,
    target_date             DATE NOT NULL,
    status                  TEXT NOT NULL CHECK (status IN ('planned', 'drafting', 'issued', 'implementing', 'repealed')),
    created_at              TIMESTAMP NOT NULL,
    updated_at              TIMESTAMP NOT NULL,
    version                 BIGINT NOT NULL
);
CREATE INDEX measure_items_owner ON measure_items (owner_jurisdiction_code, id);
CREATE INDEX measure_items_updated_at ON measure_items (updated_at, id);

CREATE TABLE measure_item_problems (
    measure_item_id BIGINT NOT NULL REFERENCES measure_items (id),
    problem_item_id BIGINT NOT NULL REFERENCES problem_items (id),
    PRIMARY KEY (measure_item_id, problem_item_id)
);

CREATE TABLE list_submissions (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_jurisdiction_code TEXT NOT NULL REFERENCES jurisdictions (code),
    department_id           BIGINT REFERENCES departments (id),
    period                  TEXT NOT NULL,
    status                  TEXT NOT NULL CHECK (status IN ('submitted', 'accepted', 'returned')),
    content                 TEXT NOT NULL,
    content_sha256          TEXT NOT NULL,
    submitted_by            BIGINT NOT NULL REFERENCES accounts (id),
    submitted_at            TIMESTAMP NOT NULL,
    reviewed_by             BIGINT REFERENCES accounts (id),
    reviewed_at             TIMESTAMP,
    review_opinion          TEXT,
    updated_at              TIMESTAMP NOT NULL,
    version                 BIGINT NOT NULL
);
-- One live submission per owner and period; a returned one may be submitted again.
CREATE UNIQUE INDEX list_submissions_one_live ON list_submissions (owner_jurisdiction_code, COALESCE(department_id, 0), period) WHERE status <> 'returned';
CREATE INDEX list_submissions_owner ON list_submissions (owner_jurisdiction_code, id);
