-- Public reports (举报 / 吹哨人, issue 12, SPEC §9): sent without an account, followed with a
-- tracking code and a secret (only its SHA-256 is kept), handled by the regulators of the
-- county chosen. The reporter's contact is kept here only: never copied into the hazard, the
-- audit log or the change feed. Nothing identifies the sender's address (the rate limit keys
-- on a keyed hash of it, in login_throttle).
CREATE TABLE public_reports (
    id                BIGSERIAL PRIMARY KEY,
    tracking_code     TEXT NOT NULL,
    secret_sha256     TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('received', 'accepted', 'converted', 'dismissed', 'verified')),
    description       TEXT NOT NULL,
    location          TEXT,
    enterprise_name   TEXT,
    city_code         TEXT NOT NULL,
    county_code       TEXT NOT NULL,
    jurisdiction_code TEXT NOT NULL REFERENCES jurisdictions (code),
    contact_name      TEXT,
    contact_phone     TEXT,
    reply             TEXT,
    enterprise_id     BIGINT REFERENCES enterprises (id),
    hazard_id         BIGINT REFERENCES hazards (id),
    dismiss_reason    TEXT,
    outcome           TEXT CHECK (outcome IN ('substantiated', 'unsubstantiated')),
    outcome_note      TEXT,
    fine_yuan         BIGINT,
    reward_yuan       BIGINT,
    handled_by        BIGINT REFERENCES accounts (id),
    handled_at        TIMESTAMP,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    version           BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX public_reports_tracking_code ON public_reports (tracking_code);
CREATE INDEX public_reports_city ON public_reports (city_code, id);
CREATE INDEX public_reports_county ON public_reports (county_code, id);
CREATE INDEX public_reports_jurisdiction ON public_reports (jurisdiction_code, id);

-- Photos sent with a report, stored by content like attachments (backups copy them too).
CREATE TABLE public_report_photos (
    id           BIGSERIAL PRIMARY KEY,
    report_id    BIGINT NOT NULL REFERENCES public_reports (id),
    sha256       TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX public_report_photos_report ON public_report_photos (report_id, id);

-- A hazard recorded from a public report names it (the report names the hazard too).
ALTER TABLE hazards ADD COLUMN public_report_id BIGINT;
