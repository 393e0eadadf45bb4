-- The risk register (风险分级管控, issue 11, SPEC §9): an enterprise's risk analysis units
-- (风险分析单元), the risk events under each (风险事件, graded by LS or LEC, every assessment
-- kept) and the control measures of each event (管控措施). Each row carries its enterprise's
-- units and sector, so a scope reads it through an index as it reads hazards, and a stable
-- UUID for the national data model exchange. A unit's level is its worst event's, an
-- enterprise's computed level its worst unit's; both are kept in the transaction that grades.
CREATE TABLE risk_units (
    id                  BIGSERIAL PRIMARY KEY,
    uuid                TEXT NOT NULL UNIQUE,
    enterprise_id       BIGINT NOT NULL REFERENCES enterprises (id),
    city_code           TEXT NOT NULL,
    county_code         TEXT NOT NULL,
    jurisdiction_code   TEXT NOT NULL,
    sector_code         TEXT NOT NULL,
    name                TEXT NOT NULL,
    location            TEXT,
    department          TEXT,
    responsible_person  TEXT,
    longitude           DOUBLE PRECISION,
    latitude            DOUBLE PRECISION,
    major_hazard_source BOOLEAN NOT NULL,
    principal_person    TEXT,
    technical_person    TEXT,
    operating_person    TEXT,
    risk_level          TEXT CHECK (risk_level IN ('red', 'orange', 'yellow', 'blue')),
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    version             BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX risk_units_enterprise ON risk_units (enterprise_id, id);
CREATE INDEX risk_units_city ON risk_units (city_code, id);
CREATE INDEX risk_units_county ON risk_units (county_code, id);
CREATE INDEX risk_units_jurisdiction ON risk_units (jurisdiction_code, id);
CREATE INDEX risk_units_updated ON risk_units (updated_at, id);

CREATE TABLE risk_events (
    id                BIGSERIAL PRIMARY KEY,
    uuid              TEXT NOT NULL UNIQUE,
    unit_id           BIGINT NOT NULL REFERENCES risk_units (id),
    enterprise_id     BIGINT NOT NULL REFERENCES enterprises (id),
    city_code         TEXT NOT NULL,
    county_code       TEXT NOT NULL,
    jurisdiction_code TEXT NOT NULL,
    sector_code       TEXT NOT NULL,
    name              TEXT NOT NULL,
    description       TEXT,
    method            TEXT NOT NULL CHECK (method IN ('ls', 'lec')),
    l                 DOUBLE PRECISION NOT NULL,
    s                 DOUBLE PRECISION,
    e                 DOUBLE PRECISION,
    c                 DOUBLE PRECISION,
    score             DOUBLE PRECISION NOT NULL,
    level             TEXT NOT NULL CHECK (level IN ('red', 'orange', 'yellow', 'blue')),
    assessed_by       BIGINT NOT NULL REFERENCES accounts (id),
    assessed_on       DATE NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    version           BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX risk_events_unit ON risk_events (unit_id, id);
CREATE INDEX risk_events_enterprise ON risk_events (enterprise_id, id);
CREATE INDEX risk_events_city ON risk_events (city_code, id);
CREATE INDEX risk_events_county ON risk_events (county_code, id);
CREATE INDEX risk_events_jurisdiction ON risk_events (jurisdiction_code, id);

-- Every assessment of an event, the current one included.
CREATE TABLE risk_assessments (
    id          BIGSERIAL PRIMARY KEY,
    event_id    BIGINT NOT NULL REFERENCES risk_events (id),
    method      TEXT NOT NULL CHECK (method IN ('ls', 'lec')),
    l           DOUBLE PRECISION NOT NULL,
    s           DOUBLE PRECISION,
    e           DOUBLE PRECISION,
    c           DOUBLE PRECISION,
    score       DOUBLE PRECISION NOT NULL,
    level       TEXT NOT NULL CHECK (level IN ('red', 'orange', 'yellow', 'blue')),
    assessed_by BIGINT NOT NULL REFERENCES accounts (id),
    assessed_on DATE NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX risk_assessments_event ON risk_assessments (event_id, id);

CREATE TABLE control_measures (
    id                     BIGSERIAL PRIMARY KEY,
    uuid                   TEXT NOT NULL UNIQUE,
    event_id               BIGINT NOT NULL REFERENCES risk_events (id),
    unit_id                BIGINT NOT NULL REFERENCES risk_units (id),
    enterprise_id          BIGINT NOT NULL REFERENCES enterprises (id),
    city_code              TEXT NOT NULL,
    county_code            TEXT NOT NULL,
    jurisdiction_code      TEXT NOT NULL,
    sector_code            TEXT NOT NULL,
    description            TEXT NOT NULL,
    classification         TEXT NOT NULL CHECK (classification IN ('engineering', 'management', 'training', 'personal_protection', 'emergency')),
    tier                   TEXT NOT NULL CHECK (tier IN ('company', 'workshop', 'team', 'post')),
    responsible_account_id BIGINT REFERENCES accounts (id),
    responsible_person     TEXT,
    created_at             TIMESTAMP NOT NULL,
    updated_at             TIMESTAMP NOT NULL,
    version                BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX control_measures_event ON control_measures (event_id, id);
CREATE INDEX control_measures_enterprise ON control_measures (enterprise_id, id);
CREATE INDEX control_measures_city ON control_measures (city_code, id);
CREATE INDEX control_measures_county ON control_measures (county_code, id);
CREATE INDEX control_measures_jurisdiction ON control_measures (jurisdiction_code, id);

-- The enterprise's level computed from its units (its declared risk_level stays beside it).
ALTER TABLE enterprises ADD COLUMN computed_risk_level TEXT CHECK (computed_risk_level IN ('red', 'orange', 'yellow', 'blue'));
