-- Reference collections page and sync like every other collection (limit, cursor,
-- updated_since): each row records when it last changed. SQLite's ADD COLUMN takes only a
-- constant default; existing rows are stamped now, new rows by the application.
ALTER TABLE jurisdictions ADD COLUMN updated_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
ALTER TABLE sectors ADD COLUMN updated_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
ALTER TABLE departments ADD COLUMN updated_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
UPDATE jurisdictions SET updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now');
UPDATE sectors SET updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now');
UPDATE departments SET updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now');
CREATE INDEX jurisdictions_updated_at ON jurisdictions (updated_at, path);
CREATE INDEX sectors_updated_at ON sectors (updated_at, code);
CREATE INDEX departments_updated_at ON departments (updated_at, id);
