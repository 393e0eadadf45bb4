DROP INDEX departments_updated_at;
DROP INDEX sectors_updated_at;
DROP INDEX jurisdictions_updated_at;
ALTER TABLE departments DROP COLUMN updated_at;
ALTER TABLE sectors DROP COLUMN updated_at;
ALTER TABLE jurisdictions DROP COLUMN updated_at;
