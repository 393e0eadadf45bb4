-- Quarterly hazard statistics reports (16号令 第十四条, issue 12, SPEC §9): one per enterprise
-- and quarter, frozen when submitted. `content` is the canonical JSON of the report as
-- submitted (enterprise, quarter, figures, signatory) and `content_sha256` its SHA-256; the
-- figures are also kept as columns for the ledger export. The enterprise's units and sector
-- are copied so a scope reads its reports through an index, as it reads hazards.
CREATE TABLE quarterly_reports (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    enterprise_id     BIGINT NOT NULL REFERENCES enterprises (id),
    year              INTEGER NOT NULL,
    quarter           INTEGER NOT NULL CHECK (quarter BETWEEN 1 AND 4),
    city_code         TEXT NOT NULL,
    county_code       TEXT NOT NULL,
    jurisdiction_code TEXT NOT NULL,
    sector_code       TEXT NOT NULL,
    signed_by         TEXT NOT NULL,
    found             BIGINT NOT NULL,
    found_major       BIGINT NOT NULL,
    rectified         BIGINT NOT NULL,
    rectified_major   BIGINT NOT NULL,
    overdue           BIGINT NOT NULL,
    funds_10k_yuan    REAL NOT NULL,
    earlier_open      BIGINT NOT NULL,
    due_on            DATE NOT NULL,
    late              BOOLEAN NOT NULL,
    content           TEXT NOT NULL,
    content_sha256    TEXT NOT NULL,
    submitted_by      BIGINT NOT NULL REFERENCES accounts (id),
    submitted_at      TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    version           BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX quarterly_reports_once ON quarterly_reports (enterprise_id, year, quarter);
-- Compliance: the reports of one quarter (semi-join against the enterprises in scope).
CREATE INDEX quarterly_reports_quarter ON quarterly_reports (year, quarter, enterprise_id);
CREATE INDEX quarterly_reports_city ON quarterly_reports (city_code, id);
CREATE INDEX quarterly_reports_county ON quarterly_reports (county_code, id);
CREATE INDEX quarterly_reports_jurisdiction ON quarterly_reports (jurisdiction_code, id);
CREATE INDEX quarterly_reports_enterprise ON quarterly_reports (enterprise_id, id);
