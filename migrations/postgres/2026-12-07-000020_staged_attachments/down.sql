DELETE FROM attachments WHERE hazard_id IS NULL;
DROP INDEX attachments_staged_expiry;
DROP INDEX attachments_staged;
ALTER TABLE attachments DROP CONSTRAINT attachments_staged_or_bound;
ALTER TABLE attachments DROP COLUMN staged_until;
ALTER TABLE attachments ALTER COLUMN hazard_id SET NOT NULL;
