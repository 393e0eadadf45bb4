-- Scope as one equality an index can serve (docs/ARCHITECTURE.md, "Scope"). The tree has fixed
-- levels (city → county or zone → township), so every regulated row carries its city and its
-- county-level unit beside its own jurisdiction, and "at or below X" is `city_code = X`,
-- `county_code = X` or `jurisdiction_code = X` by X's level.

-- Each jurisdiction's city and county-level unit (the root of its chain when it has none).
ALTER TABLE jurisdictions ADD COLUMN city_code TEXT;
ALTER TABLE jurisdictions ADD COLUMN county_code TEXT;
UPDATE jurisdictions SET city_code = COALESCE(
    (SELECT a.code FROM jurisdictions a
     WHERE substr(jurisdictions.path, 1, length(a.path)) = a.path AND a.level = 'city'
     ORDER BY length(a.path) LIMIT 1),
    (SELECT a.code FROM jurisdictions a
     WHERE substr(jurisdictions.path, 1, length(a.path)) = a.path
     ORDER BY length(a.path) LIMIT 1));
UPDATE jurisdictions SET county_code = COALESCE(
    (SELECT a.code FROM jurisdictions a
     WHERE substr(jurisdictions.path, 1, length(a.path)) = a.path AND a.level IN ('county', 'zone')
     ORDER BY length(a.path) DESC LIMIT 1),
    (SELECT a.code FROM jurisdictions a
     WHERE substr(jurisdictions.path, 1, length(a.path)) = a.path
     ORDER BY length(a.path) LIMIT 1));

ALTER TABLE hazards ADD COLUMN city_code TEXT NOT NULL DEFAULT '';
UPDATE hazards SET city_code = (
    SELECT j.city_code FROM jurisdictions j WHERE j.code = hazards.jurisdiction_code);

ALTER TABLE enterprises ADD COLUMN city_code TEXT NOT NULL DEFAULT '';
ALTER TABLE enterprises ADD COLUMN county_code TEXT NOT NULL DEFAULT '';
UPDATE enterprises SET
    city_code = (SELECT j.city_code FROM jurisdictions j WHERE j.code = enterprises.jurisdiction_code),
    county_code = (SELECT j.county_code FROM jurisdictions j WHERE j.code = enterprises.jurisdiction_code);

ALTER TABLE listings ADD COLUMN city_code TEXT NOT NULL DEFAULT '';
ALTER TABLE listings ADD COLUMN county_code TEXT NOT NULL DEFAULT '';
UPDATE listings SET
    city_code = (SELECT j.city_code FROM jurisdictions j WHERE j.code = listings.jurisdiction_code),
    county_code = (SELECT j.county_code FROM jurisdictions j WHERE j.code = listings.jurisdiction_code);

-- Hazards: scope first, then the filter or sort (id, status, deadline, last change, sector).
-- Townships and enterprises are small enough that their (scope, id) index plus one sorted
-- filter serves them; cities and counties get the full set. The global indexes they replace go.
DROP INDEX hazards_status_deadline;
DROP INDEX hazards_deadline;
DROP INDEX hazards_updated_at;
DROP INDEX hazards_sector_id;
DROP INDEX hazards_listed_id;
CREATE INDEX hazards_city_id ON hazards (city_code, id);
CREATE INDEX hazards_city_status ON hazards (city_code, status, id);
CREATE INDEX hazards_city_deadline ON hazards (city_code, deadline_key, id);
CREATE INDEX hazards_city_updated ON hazards (city_code, updated_at, id);
CREATE INDEX hazards_city_sector ON hazards (city_code, sector_code, id);
CREATE INDEX hazards_county_id ON hazards (county_code, id);
CREATE INDEX hazards_county_status ON hazards (county_code, status, id);
CREATE INDEX hazards_county_deadline ON hazards (county_code, deadline_key, id);
CREATE INDEX hazards_county_updated ON hazards (county_code, updated_at, id);
CREATE INDEX hazards_county_sector ON hazards (county_code, sector_code, id);
CREATE INDEX hazards_jurisdiction_status ON hazards (jurisdiction_code, status, id);
CREATE INDEX hazards_jurisdiction_deadline ON hazards (jurisdiction_code, deadline_key, id);

CREATE INDEX enterprises_city_id ON enterprises (city_code, id);
CREATE INDEX enterprises_county_id ON enterprises (county_code, id);

CREATE INDEX listings_city_id ON listings (city_code, id);
CREATE INDEX listings_county_id ON listings (county_code, id);
