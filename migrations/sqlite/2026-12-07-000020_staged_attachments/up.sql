-- Staged attachments (SPEC §8): a photo uploaded before its hazard exists belongs to no hazard
-- yet and to its uploader only, until a hazard create or a transition binds it or it expires
-- (`staged_until`). Exactly one of the two is set. SQLite cannot drop a NOT NULL: the table is
-- rebuilt (no other table refers to it), keeping every id.
CREATE TABLE attachments_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    hazard_id    BIGINT REFERENCES hazards (id),
    sha256       TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    stage        TEXT NOT NULL CHECK (stage IN ('before', 'after', 'plan', 'acceptance', 'other')),
    file_name    TEXT,
    uploaded_by  BIGINT NOT NULL REFERENCES accounts (id),
    created_at   TIMESTAMP NOT NULL,
    staged_until TIMESTAMP,
    CHECK ((hazard_id IS NULL) = (staged_until IS NOT NULL))
);
INSERT INTO attachments_new (id, hazard_id, sha256, content_type, size, stage, file_name, uploaded_by, created_at)
    SELECT id, hazard_id, sha256, content_type, size, stage, file_name, uploaded_by, created_at FROM attachments;
DROP TABLE attachments;
ALTER TABLE attachments_new RENAME TO attachments;
CREATE INDEX attachments_hazard ON attachments (hazard_id, id);
CREATE INDEX attachments_staged ON attachments (uploaded_by, id) WHERE hazard_id IS NULL;
CREATE INDEX attachments_staged_expiry ON attachments (staged_until) WHERE hazard_id IS NULL;
