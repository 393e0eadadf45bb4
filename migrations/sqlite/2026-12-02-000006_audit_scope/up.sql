-- Every audit event carries the tree path of the jurisdiction its entity belongs to, so the
-- audit log can be read within a city (two cities on one server never see each other's
-- events). NULL for what belongs to no jurisdiction (reference data).
ALTER TABLE audit_events ADD COLUMN jurisdiction_path TEXT;

-- Backfill: each event looks its entity up by primary key.
UPDATE audit_events SET jurisdiction_path = (
    SELECT j.path FROM hazards x JOIN jurisdictions j ON j.code = x.jurisdiction_code
    WHERE x.id = CAST(audit_events.entity_id AS INTEGER))
WHERE entity_type = 'hazard';
UPDATE audit_events SET jurisdiction_path = (
    SELECT j.path FROM enterprises x JOIN jurisdictions j ON j.code = x.jurisdiction_code
    WHERE x.id = CAST(audit_events.entity_id AS INTEGER))
WHERE entity_type = 'enterprise';
UPDATE audit_events SET jurisdiction_path = (
    SELECT j.path FROM listings x JOIN jurisdictions j ON j.code = x.jurisdiction_code
    WHERE x.id = CAST(audit_events.entity_id AS INTEGER))
WHERE entity_type = 'listing';
UPDATE audit_events SET jurisdiction_path = (
    SELECT j.path FROM problem_items x JOIN jurisdictions j ON j.code = x.owner_jurisdiction_code
    WHERE x.id = CAST(audit_events.entity_id AS INTEGER))
WHERE entity_type = 'problem_item';
UPDATE audit_events SET jurisdiction_path = (
    SELECT j.path FROM measure_items x JOIN jurisdictions j ON j.code = x.owner_jurisdiction_code
    WHERE x.id = CAST(audit_events.entity_id AS INTEGER))
WHERE entity_type = 'measure_item';
UPDATE audit_events SET jurisdiction_path = (
    SELECT j.path FROM list_submissions x JOIN jurisdictions j ON j.code = x.owner_jurisdiction_code
    WHERE x.id = CAST(audit_events.entity_id AS INTEGER))
WHERE entity_type = 'list_submission';
UPDATE audit_events SET jurisdiction_path = (
    SELECT j.path FROM accounts a
    LEFT JOIN enterprises e ON e.id = a.enterprise_id
    JOIN jurisdictions j ON j.code = COALESCE(a.jurisdiction_code, e.jurisdiction_code)
    WHERE a.id = CAST(audit_events.entity_id AS INTEGER))
WHERE entity_type = 'account';

CREATE INDEX audit_events_scope ON audit_events (jurisdiction_path, seq);
