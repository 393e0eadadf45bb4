-- Foundation: reference data, enterprises, accounts, sessions, idempotency, audit.
-- Keep in step with ../../postgres/2026-11-29-000001_foundation/up.sql (a test compares them).

CREATE TABLE jurisdictions (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    level       TEXT NOT NULL CHECK (level IN ('city', 'county', 'zone', 'township')),
    parent_code TEXT REFERENCES jurisdictions (code),
    -- '/431300/431302/': scope checks are prefix matches on this.
    path        TEXT NOT NULL UNIQUE
);

CREATE TABLE sectors (
    code      TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    high_risk BOOLEAN NOT NULL
);

CREATE TABLE departments (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    name              TEXT NOT NULL,
    jurisdiction_code TEXT NOT NULL REFERENCES jurisdictions (code),
    UNIQUE (jurisdiction_code, name)
);

CREATE TABLE department_sectors (
    department_id BIGINT NOT NULL REFERENCES departments (id),
    sector_code   TEXT NOT NULL REFERENCES sectors (code),
    PRIMARY KEY (department_id, sector_code)
);

CREATE TABLE enterprises (
    id                           INTEGER PRIMARY KEY AUTOINCREMENT,
    uscc                         TEXT NOT NULL UNIQUE,
    name                         TEXT NOT NULL,
    jurisdiction_code            TEXT NOT NULL REFERENCES jurisdictions (code),
    sector_code                  TEXT NOT NULL REFERENCES sectors (code),
    address                      TEXT,
    legal_representative         TEXT,
    principal_name               TEXT,
    principal_phone              TEXT,
    employees                    INTEGER NOT NULL CHECK (employees >= 0),
    annual_revenue_10k_yuan      REAL NOT NULL CHECK (annual_revenue_10k_yuan >= 0),
    safety_director_name         TEXT,
    safety_director_phone        TEXT,
    safety_director_appointed_on DATE,
    risk_level                   TEXT CHECK (risk_level IN ('red', 'orange', 'yellow', 'blue')),
    standardization_grade        TEXT,
    status                       TEXT NOT NULL CHECK (status IN ('operating', 'suspended', 'closed')),
    created_at                   TIMESTAMP NOT NULL,
    updated_at                   TIMESTAMP NOT NULL,
    version                      BIGINT NOT NULL
);
CREATE INDEX enterprises_jurisdiction_id ON enterprises (jurisdiction_code, id);
CREATE INDEX enterprises_sector_id ON enterprises (sector_code, id);
CREATE INDEX enterprises_updated_at ON enterprises (updated_at, id);

CREATE TABLE accounts (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    username          TEXT NOT NULL UNIQUE,
    password_hash     TEXT NOT NULL,
    display_name      TEXT NOT NULL,
    role              TEXT NOT NULL CHECK (role IN ('city_admin', 'city_officer', 'county_admin',
                                                    'county_officer', 'enterprise', 'auditor')),
    jurisdiction_code TEXT REFERENCES jurisdictions (code),
    department_id     BIGINT REFERENCES departments (id),
    enterprise_id     BIGINT REFERENCES enterprises (id),
    disabled          BOOLEAN NOT NULL,
    failed_logins     INTEGER NOT NULL,
    locked_until      TIMESTAMP,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    version           BIGINT NOT NULL,
    -- An account is bound to exactly one jurisdiction (regulators) or one enterprise.
    CHECK ((role = 'enterprise') = (enterprise_id IS NOT NULL)),
    CHECK ((role = 'enterprise') = (jurisdiction_code IS NULL))
);
CREATE INDEX accounts_jurisdiction ON accounts (jurisdiction_code, id);
CREATE INDEX accounts_enterprise ON accounts (enterprise_id, id);
CREATE INDEX accounts_updated_at ON accounts (updated_at, id);

-- A login session: the family of rotating refresh tokens and the access tokens minted from it.
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    issued_at  TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE idempotency_keys (
    account_id   BIGINT NOT NULL REFERENCES accounts (id),
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status_code  INTEGER NOT NULL,
    location     TEXT,
    body         TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

CREATE TABLE audit_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TIMESTAMP NOT NULL,
    actor_id    BIGINT REFERENCES accounts (id),
    action      TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    changes     TEXT NOT NULL,
    request_id  TEXT
);
CREATE INDEX audit_events_entity ON audit_events (entity_type, entity_id, seq);
CREATE INDEX audit_events_actor ON audit_events (actor_id, seq);
CREATE INDEX audit_events_at ON audit_events (at, seq);
