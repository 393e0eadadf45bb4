-- The audit log is read within the reader's reach like every list: each event carries the
-- city, county-level unit and jurisdiction of its entity (NULL for reference data, which every
-- reader sees), so "within X" is one equality served by a (column, seq) index.
ALTER TABLE audit_events ADD COLUMN city_code TEXT;
ALTER TABLE audit_events ADD COLUMN county_code TEXT;
ALTER TABLE audit_events ADD COLUMN jurisdiction_code TEXT;
UPDATE audit_events SET
    city_code = (SELECT j.city_code FROM jurisdictions j WHERE j.path = audit_events.jurisdiction_path),
    county_code = (SELECT j.county_code FROM jurisdictions j WHERE j.path = audit_events.jurisdiction_path),
    jurisdiction_code = (SELECT j.code FROM jurisdictions j WHERE j.path = audit_events.jurisdiction_path)
WHERE jurisdiction_path IS NOT NULL;
DROP INDEX audit_events_scope;
CREATE INDEX audit_events_city ON audit_events (city_code, seq);
CREATE INDEX audit_events_county ON audit_events (county_code, seq);
CREATE INDEX audit_events_jurisdiction ON audit_events (jurisdiction_code, seq);

-- An enterprise's listings, in id order.
CREATE INDEX listings_enterprise ON listings (enterprise_id, id);
