-- Statistics without rescanning the hazards (docs/ARCHITECTURE.md, "Statistics").
-- Keep in step with ../../postgres/2026-12-02-000011_hazard_tallies/up.sql, which explains the
-- design: per (jurisdiction, sector, level, source, month) the figures of the non-void hazards,
-- kept by triggers in the same transaction as every change; each trigger subtracts what a row
-- counted for before the statement and adds what it counts for after.
CREATE TABLE hazard_tallies (
    city_code          TEXT NOT NULL,
    county_code        TEXT NOT NULL,
    jurisdiction_code  TEXT NOT NULL,
    sector_code        TEXT NOT NULL,
    level              TEXT NOT NULL,
    source             TEXT NOT NULL,
    month              TEXT NOT NULL,
    found              BIGINT NOT NULL,
    closed             BIGINT NOT NULL,
    listed             BIGINT NOT NULL,
    delisted           BIGINT NOT NULL,
    extensions_granted BIGINT NOT NULL,
    PRIMARY KEY (jurisdiction_code, sector_code, level, source, month)
) WITHOUT ROWID;
CREATE INDEX hazard_tallies_city ON hazard_tallies (city_code, month);
CREATE INDEX hazard_tallies_county ON hazard_tallies (county_code, month);
CREATE INDEX hazard_tallies_jurisdiction ON hazard_tallies (jurisdiction_code, month);

CREATE TRIGGER hazards_tally_insert AFTER INSERT ON hazards BEGIN
    INSERT INTO hazard_tallies (city_code, county_code, jurisdiction_code, sector_code, level, source, month, found, closed, listed, delisted, extensions_granted)
    SELECT NEW.city_code, NEW.county_code, NEW.jurisdiction_code, NEW.sector_code, NEW.level, NEW.source,
        substr(NEW.discovered_on, 1, 7),
        1,
        1 * (NEW.status = 'closed'),
        1 * EXISTS (SELECT 1 FROM listings l WHERE l.hazard_id = NEW.id),
        1 * EXISTS (SELECT 1 FROM listings l WHERE l.hazard_id = NEW.id AND l.status = 'delisted'),
        1 * (SELECT COUNT(*) FROM deadline_extensions x
                  WHERE x.subject_type = 'hazard' AND x.subject_id = NEW.id AND x.status = 'approved')
    WHERE NEW.status <> 'void'
    ON CONFLICT (jurisdiction_code, sector_code, level, source, month) DO UPDATE SET
        found = found + excluded.found,
        closed = closed + excluded.closed,
        listed = listed + excluded.listed,
        delisted = delisted + excluded.delisted,
        extensions_granted = extensions_granted + excluded.extensions_granted;
END;

CREATE TRIGGER hazards_tally_delete AFTER DELETE ON hazards BEGIN
    INSERT INTO hazard_tallies (city_code, county_code, jurisdiction_code, sector_code, level, source, month, found, closed, listed, delisted, extensions_granted)
    SELECT OLD.city_code, OLD.county_code, OLD.jurisdiction_code, OLD.sector_code, OLD.level, OLD.source,
        substr(OLD.discovered_on, 1, 7),
        -1,
        -1 * (OLD.status = 'closed'),
        -1 * EXISTS (SELECT 1 FROM listings l WHERE l.hazard_id = OLD.id),
        -1 * EXISTS (SELECT 1 FROM listings l WHERE l.hazard_id = OLD.id AND l.status = 'delisted'),
        -1 * (SELECT COUNT(*) FROM deadline_extensions x
                  WHERE x.subject_type = 'hazard' AND x.subject_id = OLD.id AND x.status = 'approved')
    WHERE OLD.status <> 'void'
    ON CONFLICT (jurisdiction_code, sector_code, level, source, month) DO UPDATE SET
        found = found + excluded.found,
        closed = closed + excluded.closed,
        listed = listed + excluded.listed,
        delisted = delisted + excluded.delisted,
        extensions_granted = extensions_granted + excluded.extensions_granted;
END;

CREATE TRIGGER hazards_tally_update
    AFTER UPDATE OF status, level, source, sector_code, jurisdiction_code, county_code, city_code, discovered_on ON hazards
    WHEN (OLD.status = 'closed') IS NOT (NEW.status = 'closed')
          OR (OLD.status = 'void') IS NOT (NEW.status = 'void')
          OR OLD.level IS NOT NEW.level OR OLD.source IS NOT NEW.source
          OR OLD.sector_code IS NOT NEW.sector_code
          OR OLD.jurisdiction_code IS NOT NEW.jurisdiction_code
          OR OLD.county_code IS NOT NEW.county_code
          OR OLD.city_code IS NOT NEW.city_code
          OR OLD.discovered_on IS NOT NEW.discovered_on
BEGIN
    INSERT INTO hazard_tallies (city_code, county_code, jurisdiction_code, sector_code, level, source, month, found, closed, listed, delisted, extensions_granted)
    SELECT OLD.city_code, OLD.county_code, OLD.jurisdiction_code, OLD.sector_code, OLD.level, OLD.source,
        substr(OLD.discovered_on, 1, 7),
        -1,
        -1 * (OLD.status = 'closed'),
        -1 * EXISTS (SELECT 1 FROM listings l WHERE l.hazard_id = OLD.id),
        -1 * EXISTS (SELECT 1 FROM listings l WHERE l.hazard_id = OLD.id AND l.status = 'delisted'),
        -1 * (SELECT COUNT(*) FROM deadline_extensions x
                  WHERE x.subject_type = 'hazard' AND x.subject_id = OLD.id AND x.status = 'approved')
    WHERE OLD.status <> 'void'
    ON CONFLICT (jurisdiction_code, sector_code, level, source, month) DO UPDATE SET
        found = found + excluded.found,
        closed = closed + excluded.closed,
        listed = listed + excluded.listed,
        delisted = delisted + excluded.delisted,
        extensions_granted = extensions_granted + excluded.extensions_granted;
    INSERT INTO hazard_tallies (city_code, county_code, jurisdiction_code, sector_code, level, source, month, found, closed, listed, delisted, extensions_granted)
    SELECT NEW.city_code, NEW.county_code, NEW.jurisdiction_code, NEW.sector_code, NEW.level, NEW.source,
        substr(NEW.discovered_on, 1, 7),
        1,
        1 * (NEW.status = 'closed'),
        1 * EXISTS (SELECT 1 FROM listings l WHERE l.hazard_id = NEW.id),
        1 * EXISTS (SELECT 1 FROM listings l WHERE l.hazard_id = NEW.id AND l.status = 'delisted'),
        1 * (SELECT COUNT(*) FROM deadline_extensions x
                  WHERE x.subject_type = 'hazard' AND x.subject_id = NEW.id AND x.status = 'approved')
    WHERE NEW.status <> 'void'
    ON CONFLICT (jurisdiction_code, sector_code, level, source, month) DO UPDATE SET
        found = found + excluded.found,
        closed = closed + excluded.closed,
        listed = listed + excluded.listed,
        delisted = delisted + excluded.delisted,
        extensions_granted = extensions_granted + excluded.extensions_granted;
END;

-- Listed while it has any listing, delisted while it has a delisted one.
CREATE TRIGGER listings_tally_insert AFTER INSERT ON listings BEGIN
    UPDATE hazard_tallies SET
        listed = listed + (NOT EXISTS (SELECT 1 FROM listings o WHERE o.hazard_id = NEW.hazard_id AND o.id <> NEW.id)),
        delisted = delisted + (NEW.status = 'delisted' AND NOT EXISTS (SELECT 1 FROM listings o WHERE o.hazard_id = NEW.hazard_id AND o.id <> NEW.id AND o.status = 'delisted')),
        extensions_granted = extensions_granted + (0)
    WHERE (jurisdiction_code, sector_code, level, source, month) =
          (SELECT h.jurisdiction_code, h.sector_code, h.level, h.source, substr(h.discovered_on, 1, 7)
           FROM hazards h WHERE h.id = NEW.hazard_id AND h.status <> 'void');
END;

CREATE TRIGGER listings_tally_delete AFTER DELETE ON listings BEGIN
    UPDATE hazard_tallies SET
        listed = listed + (-(NOT EXISTS (SELECT 1 FROM listings o WHERE o.hazard_id = OLD.hazard_id AND o.id <> OLD.id))),
        delisted = delisted + (-(OLD.status = 'delisted' AND NOT EXISTS (SELECT 1 FROM listings o WHERE o.hazard_id = OLD.hazard_id AND o.id <> OLD.id AND o.status = 'delisted'))),
        extensions_granted = extensions_granted + (0)
    WHERE (jurisdiction_code, sector_code, level, source, month) =
          (SELECT h.jurisdiction_code, h.sector_code, h.level, h.source, substr(h.discovered_on, 1, 7)
           FROM hazards h WHERE h.id = OLD.hazard_id AND h.status <> 'void');
END;

CREATE TRIGGER listings_tally_update AFTER UPDATE OF status ON listings
    WHEN OLD.status IS NOT NEW.status
BEGIN
    UPDATE hazard_tallies SET
        listed = listed + (0),
        delisted = delisted + (((NEW.status = 'delisted') - (OLD.status = 'delisted')) * NOT EXISTS (SELECT 1 FROM listings o WHERE o.hazard_id = NEW.hazard_id AND o.id <> NEW.id AND o.status = 'delisted')),
        extensions_granted = extensions_granted + (0)
    WHERE (jurisdiction_code, sector_code, level, source, month) =
          (SELECT h.jurisdiction_code, h.sector_code, h.level, h.source, substr(h.discovered_on, 1, 7)
           FROM hazards h WHERE h.id = NEW.hazard_id AND h.status <> 'void');
END;

CREATE TRIGGER extensions_tally_insert AFTER INSERT ON deadline_extensions
    WHEN NEW.subject_type = 'hazard' AND NEW.status = 'approved'
BEGIN
    UPDATE hazard_tallies SET
        listed = listed + (0),
        delisted = delisted + (0),
        extensions_granted = extensions_granted + (1)
    WHERE (jurisdiction_code, sector_code, level, source, month) =
          (SELECT h.jurisdiction_code, h.sector_code, h.level, h.source, substr(h.discovered_on, 1, 7)
           FROM hazards h WHERE h.id = NEW.subject_id AND h.status <> 'void');
END;

CREATE TRIGGER extensions_tally_delete AFTER DELETE ON deadline_extensions
    WHEN OLD.subject_type = 'hazard' AND OLD.status = 'approved'
BEGIN
    UPDATE hazard_tallies SET
        listed = listed + (0),
        delisted = delisted + (0),
        extensions_granted = extensions_granted + (-1)
    WHERE (jurisdiction_code, sector_code, level, source, month) =
          (SELECT h.jurisdiction_code, h.sector_code, h.level, h.source, substr(h.discovered_on, 1, 7)
           FROM hazards h WHERE h.id = OLD.subject_id AND h.status <> 'void');
END;

CREATE TRIGGER extensions_tally_update AFTER UPDATE OF status, subject_type, subject_id ON deadline_extensions BEGIN
    UPDATE hazard_tallies SET
        listed = listed + (0),
        delisted = delisted + (0),
        extensions_granted = extensions_granted + (-(OLD.subject_type = 'hazard' AND OLD.status = 'approved'))
    WHERE (jurisdiction_code, sector_code, level, source, month) =
          (SELECT h.jurisdiction_code, h.sector_code, h.level, h.source, substr(h.discovered_on, 1, 7)
           FROM hazards h WHERE h.id = OLD.subject_id AND h.status <> 'void');
    UPDATE hazard_tallies SET
        listed = listed + (0),
        delisted = delisted + (0),
        extensions_granted = extensions_granted + (NEW.subject_type = 'hazard' AND NEW.status = 'approved')
    WHERE (jurisdiction_code, sector_code, level, source, month) =
          (SELECT h.jurisdiction_code, h.sector_code, h.level, h.source, substr(h.discovered_on, 1, 7)
           FROM hazards h WHERE h.id = NEW.subject_id AND h.status <> 'void');
END;

-- What is already there.
INSERT INTO hazard_tallies (city_code, county_code, jurisdiction_code, sector_code, level, source, month, found, closed, listed, delisted, extensions_granted)
SELECT h.city_code, h.county_code, h.jurisdiction_code, h.sector_code, h.level, h.source,
       substr(h.discovered_on, 1, 7),
       COUNT(*),
       SUM(h.status = 'closed'),
       SUM(l.hazard_id IS NOT NULL),
       SUM(COALESCE(l.delisted, 0)),
       COALESCE(SUM(x.granted), 0)
FROM hazards h
LEFT JOIN (SELECT hazard_id, MAX(status = 'delisted') AS delisted FROM listings GROUP BY hazard_id) l
       ON l.hazard_id = h.id
LEFT JOIN (SELECT subject_id, COUNT(*) AS granted FROM deadline_extensions
           WHERE subject_type = 'hazard' AND status = 'approved' GROUP BY subject_id) x
       ON x.subject_id = h.id
WHERE h.status <> 'void'
GROUP BY h.city_code, h.county_code, h.jurisdiction_code, h.sector_code, h.level, h.source,
         substr(h.discovered_on, 1, 7);

-- Overdue hazards per scope in deadline order, covering what the statistics count by
-- (PostgreSQL's INCLUDE columns are trailing key columns here).
CREATE INDEX hazards_city_overdue ON hazards (city_code, deadline_key, id, discovered_on, county_code, sector_code, level, source)
    WHERE status IN ('reported', 'rectifying');
CREATE INDEX hazards_county_overdue ON hazards (county_code, deadline_key, id, discovered_on, sector_code, level, source)
    WHERE status IN ('reported', 'rectifying');
CREATE INDEX hazards_jurisdiction_overdue ON hazards (jurisdiction_code, deadline_key, id, discovered_on, county_code, sector_code, level, source)
    WHERE status IN ('reported', 'rectifying');

CREATE INDEX hazards_city_discovered ON hazards (city_code, discovered_on);
CREATE INDEX hazards_county_discovered ON hazards (county_code, discovered_on);
