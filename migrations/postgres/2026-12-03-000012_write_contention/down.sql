-- Back to one tally row per key and a counter row per prefix.
-- The counters take the sequences' values, so a code is still never reused (every sequence
-- has its counter row: hazard_code_next makes both).
DROP TRIGGER hazard_code_counters_follow ON hazard_code_counters;
DO $$
DECLARE
    c record;
    seq text;
BEGIN
    FOR c IN SELECT prefix FROM hazard_code_counters LOOP
        seq := hazard_code_sequence(c.prefix);
        IF to_regclass(seq) IS NOT NULL THEN
            UPDATE hazard_code_counters
            SET last_value = GREATEST(last_value, COALESCE(pg_sequence_last_value(seq::regclass), 0))
            WHERE prefix = c.prefix;
            EXECUTE format('DROP SEQUENCE %I', seq);
        END IF;
    END LOOP;
END $$;
DROP FUNCTION hazard_code_counters_follow();
DROP FUNCTION hazard_code_sync();
DROP FUNCTION hazard_code_raise(text, bigint);
DROP FUNCTION hazard_code_next(text);
DROP FUNCTION hazard_code_sequence(text);

SELECT hazard_tally_fold();
DROP FUNCTION hazard_tally_fold();
-- Rows a writer held during the fold: none remain once no writer runs (down migrations run alone).
ALTER TABLE hazard_tallies DROP CONSTRAINT hazard_tallies_pkey;
ALTER TABLE hazard_tallies DROP COLUMN slot;
ALTER TABLE hazard_tallies ADD PRIMARY KEY (jurisdiction_code, sector_code, level, source, month);

CREATE OR REPLACE FUNCTION hazard_tally_add(h hazards, sign BIGINT) RETURNS void LANGUAGE plpgsql AS $$
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

CREATE OR REPLACE FUNCTION hazard_tally_bump(hazard BIGINT, d_listed BIGINT, d_delisted BIGINT, d_granted BIGINT)
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

CREATE OR REPLACE FUNCTION hazards_tally_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
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

DROP FUNCTION hazard_tally_slot();
