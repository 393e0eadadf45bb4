-- Inspection tasks, their due slots and check records (排查任务, 排查记录; issue 11, SPEC §9).
-- A task checks a set of control measures on a cycle; its slots are materialised per period
-- (Asia/Shanghai) as the clock reaches them; a slot is checked by at most one record, and a
-- slot that ends unchecked is missed (漏检). A failed measure raises (or links) a hazard that
-- names its origin: the record, the measure and the unit.
CREATE TABLE inspection_tasks (
    id                  BIGSERIAL PRIMARY KEY,
    uuid                TEXT NOT NULL UNIQUE,
    enterprise_id       BIGINT NOT NULL REFERENCES enterprises (id),
    city_code           TEXT NOT NULL,
    county_code         TEXT NOT NULL,
    jurisdiction_code   TEXT NOT NULL,
    sector_code         TEXT NOT NULL,
    name                TEXT NOT NULL,
    assignee_account_id BIGINT REFERENCES accounts (id),
    assignee_post       TEXT,
    cycle_unit          TEXT NOT NULL CHECK (cycle_unit IN ('hour', 'day', 'week', 'month', 'quarter', 'year')),
    cycle_every         INTEGER NOT NULL CHECK (cycle_every >= 1),
    working_days_only   BOOLEAN NOT NULL,
    starts_on           DATE NOT NULL,
    ends_on             DATE,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    version             BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX inspection_tasks_enterprise ON inspection_tasks (enterprise_id, id);
CREATE INDEX inspection_tasks_city ON inspection_tasks (city_code, id);
CREATE INDEX inspection_tasks_county ON inspection_tasks (county_code, id);
CREATE INDEX inspection_tasks_jurisdiction ON inspection_tasks (jurisdiction_code, id);

CREATE TABLE inspection_task_measures (
    task_id    BIGINT NOT NULL REFERENCES inspection_tasks (id),
    measure_id BIGINT NOT NULL REFERENCES control_measures (id),
    PRIMARY KEY (task_id, measure_id)
);

CREATE TABLE inspection_slots (
    id                BIGSERIAL PRIMARY KEY,
    task_id           BIGINT NOT NULL REFERENCES inspection_tasks (id),
    seq               INTEGER NOT NULL,
    enterprise_id     BIGINT NOT NULL REFERENCES enterprises (id),
    city_code         TEXT NOT NULL,
    county_code       TEXT NOT NULL,
    jurisdiction_code TEXT NOT NULL,
    sector_code       TEXT NOT NULL,
    starts_at         TIMESTAMP NOT NULL,
    ends_at           TIMESTAMP NOT NULL,
    record_id         BIGINT
);
CREATE UNIQUE INDEX inspection_slots_once ON inspection_slots (task_id, seq);
-- The regulators' view counts a period's slots per enterprise within a scope.
CREATE INDEX inspection_slots_enterprise ON inspection_slots (enterprise_id, starts_at);
CREATE INDEX inspection_slots_city ON inspection_slots (city_code, starts_at);
CREATE INDEX inspection_slots_county ON inspection_slots (county_code, starts_at);
CREATE INDEX inspection_slots_jurisdiction ON inspection_slots (jurisdiction_code, starts_at);

CREATE TABLE check_records (
    id                BIGSERIAL PRIMARY KEY,
    uuid              TEXT NOT NULL UNIQUE,
    slot_id           BIGINT NOT NULL UNIQUE REFERENCES inspection_slots (id),
    task_id           BIGINT NOT NULL REFERENCES inspection_tasks (id),
    enterprise_id     BIGINT NOT NULL REFERENCES enterprises (id),
    city_code         TEXT NOT NULL,
    county_code       TEXT NOT NULL,
    jurisdiction_code TEXT NOT NULL,
    sector_code       TEXT NOT NULL,
    checked_by        BIGINT NOT NULL REFERENCES accounts (id),
    checked_at        TIMESTAMP NOT NULL,
    failed            INTEGER NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL
);
CREATE INDEX check_records_enterprise ON check_records (enterprise_id, id);
CREATE INDEX check_records_city ON check_records (city_code, id);
CREATE INDEX check_records_county ON check_records (county_code, id);
CREATE INDEX check_records_jurisdiction ON check_records (jurisdiction_code, id);

CREATE TABLE check_results (
    record_id  BIGINT NOT NULL REFERENCES check_records (id),
    measure_id BIGINT NOT NULL REFERENCES control_measures (id),
    ok         BOOLEAN NOT NULL,
    note       TEXT,
    hazard_id  BIGINT REFERENCES hazards (id),
    PRIMARY KEY (record_id, measure_id)
);

-- A hazard found by a check names where it came from.
ALTER TABLE hazards ADD COLUMN check_record_id BIGINT;
ALTER TABLE hazards ADD COLUMN control_measure_id BIGINT;
ALTER TABLE hazards ADD COLUMN risk_unit_id BIGINT;
CREATE INDEX hazards_control_measure ON hazards (control_measure_id) WHERE control_measure_id IS NOT NULL;
CREATE INDEX hazards_risk_unit ON hazards (risk_unit_id) WHERE risk_unit_id IS NOT NULL;
