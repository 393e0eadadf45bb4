-- Staged attachments (SPEC §8): a photo uploaded before its hazard exists belongs to no hazard
-- yet and to its uploader only, until a hazard create or a transition binds it or it expires
-- (`staged_until`). Exactly one of the two is set. Old binaries filter attachments by hazard,
-- so they never see a staged one.
ALTER TABLE attachments ALTER COLUMN hazard_id DROP NOT NULL;
ALTER TABLE attachments ADD COLUMN staged_until TIMESTAMP;
ALTER TABLE attachments ADD CONSTRAINT attachments_staged_or_bound
    CHECK ((hazard_id IS NULL) = (staged_until IS NOT NULL));
CREATE INDEX attachments_staged ON attachments (uploaded_by, id) WHERE hazard_id IS NULL;
CREATE INDEX attachments_staged_expiry ON attachments (staged_until) WHERE hazard_id IS NULL;
