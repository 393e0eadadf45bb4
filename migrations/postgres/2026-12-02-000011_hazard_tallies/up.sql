-- Statistics without rescanning the hazards (docs/ARCHITECTURE.md, "Statistics").
-- Keep in step with ../../sqlite/2026-12-02-000011_hazard_tallies/up.sql.
--
-- hazard_tallies holds, per jurisdiction, sector, level, source and month of discovery, the
-- figures of the non-void hazards in it: how many, how many closed, how many ever listed, how
-- many with a delisted listing, and their approved extensions. Triggers on hazards, listings
-- and deadline_extensions keep it in the same transaction as every change, whoever writes
-- (the API, the command line or an SQL load). Each trigger subtracts what the row counted for
-- before the statement and adds what it counts for after, so the figures telescope exactly.
-- Overdue depends on today and is counted from the rows, through the partial indexes below.
CREATE TABLE hazard_tallies (
    city_code          TEXT NOT NULL,
    county_code        TEXT NOT NULL,
    jurisdiction_code  TEXT NOT NULL,
    sector_code        TEXT NOT NULL,
    level              TEXT NOT NULL,
    source             TEXT NOT NULL,
    -- YYYY-MM of discovered_on.
    month              TEXT NOT NULL,
    found              BIGINT NOT NULL,
    closed             BIGINT NOT NULL,
    listed             BIGINT NOT NULL,
    delisted           BIGINT NOT NULL,
    extensions_granted BIGINT NOT NULL,
    PRIMARY KEY (jurisdiction_code, sector_code, level, source, month)
);
CREATE INDEX hazard_tallies_city ON hazard_tallies (city_code, month);
CREATE INDEX hazard_tallies_county ON hazard_tallies (county_code, month);
CREATE INDEX hazard_tallies_jurisdiction ON hazard_tallies (jurisdiction_code, month);

-- Tallies are kept with HOT updates (no indexed column changes), pruned in place.
ALTER TABLE hazard_tallies SET (fillfactor = 70);

-- Adds sign × (what hazard h counts for, with the listings and extensions as they are now) to
-- its tally. A void hazard counts for nothing.
CREATE FUNCTION hazard_tally_add(h hazards, sign BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF h.status = 'void' THEN
        RETURN;
    END IF;
    INSERT INTO hazard_tallies AS t (city_code, county_code, jurisdiction_code, sector_code, level,
        source, month, found, closed, listed, delisted, extensions_granted)
    VALUES (h.city_code, h.county_code, h.jurisdiction_code, h.sector_code, h.level, h.source,
        to_char(h.discovered_on, 'YYYY-MM'),
        sign,
        sign * (h.status = 'closed')::int,
        sign * (EXISTS (SELECT 1 FROM listings l WHERE l.hazard_id = h.id))::int,
        sign * (EXISTS (SELECT 1 FROM listings l WHERE l.hazard_id = h.id AND l.status = 'delisted'))::int,
        sign * (SELECT COUNT(*) FROM deadline_extensions x
                WHERE x.subject_type = 'hazard' AND x.subject_id = h.id AND x.status = 'approved'))
    ON CONFLICT (jurisdiction_code, sector_code, level, source, month) DO UPDATE SET
        found = t.found + excluded.found,
        closed = t.closed + excluded.closed,
        listed = t.listed + excluded.listed,
        delisted = t.delisted + excluded.delisted,
        extensions_granted = t.extensions_granted + excluded.extensions_granted;
END $$;

-- Adds deltas of the listing and extension figures to the tally of hazard `hazard`.
CREATE FUNCTION hazard_tally_bump(hazard BIGINT, d_listed BIGINT, d_delisted BIGINT, d_granted BIGINT)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF d_listed = 0 AND d_delisted = 0 AND d_granted = 0 THEN
        RETURN;
    END IF;
    UPDATE hazard_tallies t SET
        listed = t.listed + d_listed,
        delisted = t.delisted + d_delisted,
        extensions_granted = t.extensions_granted + d_granted
    FROM hazards h
    WHERE h.id = hazard AND h.status <> 'void'
      AND t.jurisdiction_code = h.jurisdiction_code AND t.sector_code = h.sector_code
      AND t.level = h.level AND t.source = h.source
      AND t.month = to_char(h.discovered_on, 'YYYY-MM');
END $$;

CREATE FUNCTION hazards_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM hazard_tally_add(OLD, -1);
    ELSIF (OLD.jurisdiction_code, OLD.sector_code, OLD.level, OLD.source, to_char(OLD.discovered_on, 'YYYY-MM'))
          < (NEW.jurisdiction_code, NEW.sector_code, NEW.level, NEW.source, to_char(NEW.discovered_on, 'YYYY-MM')) THEN
        -- Two tallies are touched in key order, so two moves the other way round cannot deadlock.
        PERFORM hazard_tally_add(OLD, -1);
        PERFORM hazard_tally_add(NEW, 1);
    ELSE
        PERFORM hazard_tally_add(NEW, 1);
        PERFORM hazard_tally_add(OLD, -1);
    END IF;
    RETURN NULL;
END $$;

-- Inserts are tallied once per statement, from its transition table: a bulk load (COPY, an
-- INSERT … SELECT) then updates each tally once, where a row trigger would leave a dead
-- version of a tally per row loaded (a million-row COPY left a 30,000-row table on 16,000
-- pages, and statistics five times slower).
CREATE FUNCTION hazards_tally_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO hazard_tallies AS t (city_code, county_code, jurisdiction_code, sector_code, level,
        source, month, found, closed, listed, delisted, extensions_granted)
    SELECT MIN(n.city_code), MIN(n.county_code), n.jurisdiction_code, n.sector_code, n.level,
           n.source, to_char(n.discovered_on, 'YYYY-MM'),
           COUNT(*),
           COUNT(*) FILTER (WHERE n.status = 'closed'),
           COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM listings l WHERE l.hazard_id = n.id)),
           COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM listings l
                                          WHERE l.hazard_id = n.id AND l.status = 'delisted')),
           COALESCE(SUM((SELECT COUNT(*) FROM deadline_extensions x
                         WHERE x.subject_type = 'hazard' AND x.subject_id = n.id
                           AND x.status = 'approved')), 0)
    FROM inserted n
    WHERE n.status <> 'void'
    GROUP BY n.jurisdiction_code, n.sector_code, n.level, n.source, to_char(n.discovered_on, 'YYYY-MM')
    -- Tallies in key order, as everywhere, so concurrent statements cannot deadlock.
    ORDER BY n.jurisdiction_code, n.sector_code, n.level, n.source, to_char(n.discovered_on, 'YYYY-MM')
    ON CONFLICT (jurisdiction_code, sector_code, level, source, month) DO UPDATE SET
        found = t.found + excluded.found,
        closed = t.closed + excluded.closed,
        listed = t.listed + excluded.listed,
        delisted = t.delisted + excluded.delisted,
        extensions_granted = t.extensions_granted + excluded.extensions_granted;
    RETURN NULL;
END $$;

CREATE TRIGGER hazards_tally_insert AFTER INSERT ON hazards
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION hazards_tally_inserted();
CREATE TRIGGER hazards_tally_delete AFTER DELETE ON hazards
    FOR EACH ROW EXECUTE FUNCTION hazards_tally();
CREATE TRIGGER hazards_tally_update
    AFTER UPDATE OF status, level, source, sector_code, jurisdiction_code, county_code, city_code, discovered_on ON hazards
    FOR EACH ROW
    WHEN ((OLD.status = 'closed') IS DISTINCT FROM (NEW.status = 'closed')
          OR (OLD.status = 'void') IS DISTINCT FROM (NEW.status = 'void')
          OR OLD.level IS DISTINCT FROM NEW.level OR OLD.source IS DISTINCT FROM NEW.source
          OR OLD.sector_code IS DISTINCT FROM NEW.sector_code
          OR OLD.jurisdiction_code IS DISTINCT FROM NEW.jurisdiction_code
          OR OLD.county_code IS DISTINCT FROM NEW.county_code
          OR OLD.city_code IS DISTINCT FROM NEW.city_code
          OR OLD.discovered_on IS DISTINCT FROM NEW.discovered_on)
    EXECUTE FUNCTION hazards_tally();

-- A hazard counts as listed while it has any listing, and as delisted while it has a delisted
-- one: the change of those two facts is the listing trigger's delta. A listing never moves to
-- another hazard.
CREATE FUNCTION listings_tally() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    hazard BIGINT;
    me BIGINT;
    others BOOLEAN;
    others_delisted BOOLEAN;
    was_listed INT;
    was_delisted INT;
    is_listed INT;
    is_delisted INT;
BEGIN
    IF TG_OP = 'DELETE' THEN
        hazard := OLD.hazard_id;
        me := OLD.id;
    ELSE
        hazard := NEW.hazard_id;
        me := NEW.id;
    END IF;
    SELECT EXISTS (SELECT 1 FROM listings WHERE hazard_id = hazard AND id <> me),
           EXISTS (SELECT 1 FROM listings WHERE hazard_id = hazard AND id <> me AND status = 'delisted')
      INTO others, others_delisted;
    was_listed := (others OR TG_OP <> 'INSERT')::int;
    was_delisted := (others_delisted OR (TG_OP <> 'INSERT' AND OLD.status = 'delisted'))::int;
    is_listed := (others OR TG_OP <> 'DELETE')::int;
    is_delisted := (others_delisted OR (TG_OP <> 'DELETE' AND NEW.status = 'delisted'))::int;
    PERFORM hazard_tally_bump(hazard, is_listed - was_listed, is_delisted - was_delisted, 0);
    RETURN NULL;
END $$;

CREATE TRIGGER listings_tally_insert AFTER INSERT ON listings
    FOR EACH ROW EXECUTE FUNCTION listings_tally();
CREATE TRIGGER listings_tally_delete AFTER DELETE ON listings
    FOR EACH ROW EXECUTE FUNCTION listings_tally();
CREATE TRIGGER listings_tally_update AFTER UPDATE OF status ON listings
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION listings_tally();

CREATE FUNCTION extensions_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.subject_type = 'hazard' AND OLD.status = 'approved' THEN
        PERFORM hazard_tally_bump(OLD.subject_id, 0, 0, -1);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.subject_type = 'hazard' AND NEW.status = 'approved' THEN
        PERFORM hazard_tally_bump(NEW.subject_id, 0, 0, 1);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER extensions_tally_insert AFTER INSERT ON deadline_extensions
    FOR EACH ROW EXECUTE FUNCTION extensions_tally();
CREATE TRIGGER extensions_tally_delete AFTER DELETE ON deadline_extensions
    FOR EACH ROW EXECUTE FUNCTION extensions_tally();
CREATE TRIGGER extensions_tally_update AFTER UPDATE OF status, subject_type, subject_id ON deadline_extensions
    FOR EACH ROW EXECUTE FUNCTION extensions_tally();

-- What is already there.
INSERT INTO hazard_tallies (city_code, county_code, jurisdiction_code, sector_code, level, source,
    month, found, closed, listed, delisted, extensions_granted)
SELECT h.city_code, h.county_code, h.jurisdiction_code, h.sector_code, h.level, h.source,
       to_char(h.discovered_on, 'YYYY-MM'),
       COUNT(*),
       COUNT(*) FILTER (WHERE h.status = 'closed'),
       COUNT(*) FILTER (WHERE l.hazard_id IS NOT NULL),
       COUNT(*) FILTER (WHERE l.delisted),
       COALESCE(SUM(x.granted), 0)
FROM hazards h
LEFT JOIN (SELECT hazard_id, bool_or(status = 'delisted') AS delisted FROM listings GROUP BY hazard_id) l
       ON l.hazard_id = h.id
LEFT JOIN (SELECT subject_id, COUNT(*) AS granted FROM deadline_extensions
           WHERE subject_type = 'hazard' AND status = 'approved' GROUP BY subject_id) x
       ON x.subject_id = h.id
WHERE h.status <> 'void'
GROUP BY h.city_code, h.county_code, h.jurisdiction_code, h.sector_code, h.level, h.source,
         to_char(h.discovered_on, 'YYYY-MM');

-- Overdue hazards (reported or rectifying, past the deadline; HazardStatus::counts_overdue),
-- per scope in deadline order: the overdue list pages through them without passing closed
-- rows, and the statistics count them from the index alone. The status list is written out
-- the same way in the queries, so the planner can see the index applies.
CREATE INDEX hazards_city_overdue ON hazards (city_code, deadline_key, id)
    INCLUDE (discovered_on, county_code, sector_code, level, source)
    WHERE status IN ('reported', 'rectifying');
CREATE INDEX hazards_county_overdue ON hazards (county_code, deadline_key, id)
    INCLUDE (discovered_on, sector_code, level, source)
    WHERE status IN ('reported', 'rectifying');
CREATE INDEX hazards_jurisdiction_overdue ON hazards (jurisdiction_code, deadline_key, id)
    INCLUDE (discovered_on, county_code, sector_code, level, source)
    WHERE status IN ('reported', 'rectifying');

-- Rows counted directly (the days of a period that do not fill a month, and enterprises).
CREATE INDEX hazards_city_discovered ON hazards (city_code, discovered_on);
CREATE INDEX hazards_county_discovered ON hazards (county_code, discovered_on);
