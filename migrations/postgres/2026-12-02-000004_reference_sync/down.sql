ALTER TABLE departments DROP COLUMN updated_at;
ALTER TABLE sectors DROP COLUMN updated_at;
ALTER TABLE jurisdictions DROP COLUMN updated_at;
