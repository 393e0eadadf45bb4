-- Reference collections page and sync like every other collection (limit, cursor,
-- updated_since): each row records when it last changed.
ALTER TABLE jurisdictions ADD COLUMN updated_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'utc');
ALTER TABLE sectors ADD COLUMN updated_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'utc');
ALTER TABLE departments ADD COLUMN updated_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'utc');
CREATE INDEX jurisdictions_updated_at ON jurisdictions (updated_at, path);
CREATE INDEX sectors_updated_at ON sectors (updated_at, code);
CREATE INDEX departments_updated_at ON departments (updated_at, id);
