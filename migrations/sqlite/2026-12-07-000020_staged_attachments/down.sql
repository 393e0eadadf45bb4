DELETE FROM attachments WHERE hazard_id IS NULL;
CREATE TABLE attachments_old (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    hazard_id    BIGINT NOT NULL REFERENCES hazards (id),
    sha256       TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    stage        TEXT NOT NULL CHECK (stage IN ('before', 'after', 'plan', 'acceptance', 'other')),
    file_name    TEXT,
    uploaded_by  BIGINT NOT NULL REFERENCES accounts (id),
    created_at   TIMESTAMP NOT NULL
);
INSERT INTO attachments_old SELECT id, hazard_id, sha256, content_type, size, stage, file_name, uploaded_by, created_at FROM attachments;
DROP TABLE attachments;
ALTER TABLE attachments_old RENAME TO attachments;
CREATE INDEX attachments_hazard ON attachments (hazard_id, id);
