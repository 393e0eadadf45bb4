-- The two lists and their submissions scoped like every other list (docs/ARCHITECTURE.md,
-- "Scope"): each row carries its owner's city and county-level unit, so "owned at or below X"
-- is one equality that a `(scope column, id)` index serves, instead of a subquery over the
-- jurisdictions' paths. Keep in step with the other backend's tree.
ALTER TABLE problem_items ADD COLUMN owner_city_code TEXT NOT NULL DEFAULT '';
ALTER TABLE problem_items ADD COLUMN owner_county_code TEXT NOT NULL DEFAULT '';
UPDATE problem_items SET
    owner_city_code = (SELECT COALESCE(j.city_code, j.code) FROM jurisdictions j WHERE j.code = problem_items.owner_jurisdiction_code),
    owner_county_code = (SELECT COALESCE(j.county_code, j.code) FROM jurisdictions j WHERE j.code = problem_items.owner_jurisdiction_code);
CREATE INDEX problem_items_owner_city ON problem_items (owner_city_code, id);
CREATE INDEX problem_items_owner_county ON problem_items (owner_county_code, id);

ALTER TABLE measure_items ADD COLUMN owner_city_code TEXT NOT NULL DEFAULT '';
ALTER TABLE measure_items ADD COLUMN owner_county_code TEXT NOT NULL DEFAULT '';
UPDATE measure_items SET
    owner_city_code = (SELECT COALESCE(j.city_code, j.code) FROM jurisdictions j WHERE j.code = measure_items.owner_jurisdiction_code),
    owner_county_code = (SELECT COALESCE(j.county_code, j.code) FROM jurisdictions j WHERE j.code = measure_items.owner_jurisdiction_code);
CREATE INDEX measure_items_owner_city ON measure_items (owner_city_code, id);
CREATE INDEX measure_items_owner_county ON measure_items (owner_county_code, id);

ALTER TABLE list_submissions ADD COLUMN owner_city_code TEXT NOT NULL DEFAULT '';
ALTER TABLE list_submissions ADD COLUMN owner_county_code TEXT NOT NULL DEFAULT '';
UPDATE list_submissions SET
    owner_city_code = (SELECT COALESCE(j.city_code, j.code) FROM jurisdictions j WHERE j.code = list_submissions.owner_jurisdiction_code),
    owner_county_code = (SELECT COALESCE(j.county_code, j.code) FROM jurisdictions j WHERE j.code = list_submissions.owner_jurisdiction_code);
CREATE INDEX list_submissions_owner_city ON list_submissions (owner_city_code, id);
CREATE INDEX list_submissions_owner_county ON list_submissions (owner_county_code, id);
