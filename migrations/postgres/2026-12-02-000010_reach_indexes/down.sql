DROP INDEX listings_enterprise;
DROP INDEX audit_events_jurisdiction;
DROP INDEX audit_events_county;
DROP INDEX audit_events_city;
CREATE INDEX audit_events_scope ON audit_events (jurisdiction_path, seq);
ALTER TABLE audit_events DROP COLUMN jurisdiction_code;
ALTER TABLE audit_events DROP COLUMN county_code;
ALTER TABLE audit_events DROP COLUMN city_code;
