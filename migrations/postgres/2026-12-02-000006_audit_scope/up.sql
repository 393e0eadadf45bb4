-- Every audit event carries the tree path of the jurisdiction its entity belongs to, so the
-- audit log can be read within a city (two cities on one server never see each other's
-- events). NULL for what belongs to no jurisdiction (reference data).
ALTER TABLE audit_events ADD COLUMN jurisdiction_path TEXT;

UPDATE audit_events SET jurisdiction_path = (
    SELECT j.path FROM hazards h JOIN jurisdictions j ON j.code = h.jurisdiction_code
    WHERE CAST(h.id AS TEXT) = audit_events.entity_id)
WHERE entity_type = 'hazard';
UPDATE audit_events SET jurisdiction_path = (
    SELECT j.path FROM enterprises e JOIN jurisdictions j ON j.code = e.jurisdiction_code
    WHERE CAST(e.id AS TEXT) = audit_events.entity_id)
WHERE entity_type = 'enterprise';
UPDATE audit_events SET jurisdiction_path = (
    SELECT j.path FROM listings l JOIN jurisdictions j ON j.code = l.jurisdiction_code
    WHERE CAST(l.id AS TEXT) = audit_events.entity_id)
WHERE entity_type = 'listing';
UPDATE audit_events SET jurisdiction_path = (
    SELECT j.path FROM problem_items i JOIN jurisdictions j ON j.code = i.owner_jurisdiction_code
    WHERE CAST(i.id AS TEXT) = audit_events.entity_id)
WHERE entity_type = 'problem_item';
UPDATE audit_events SET jurisdiction_path = (
    SELECT j.path FROM measure_items i JOIN jurisdictions j ON j.code = i.owner_jurisdiction_code
    WHERE CAST(i.id AS TEXT) = audit_events.entity_id)
WHERE entity_type = 'measure_item';
UPDATE audit_events SET jurisdiction_path = (
    SELECT j.path FROM list_submissions s JOIN jurisdictions j ON j.code = s.owner_jurisdiction_code
    WHERE CAST(s.id AS TEXT) = audit_events.entity_id)
WHERE entity_type = 'list_submission';
UPDATE audit_events SET jurisdiction_path = (
    SELECT j.path FROM accounts a
    LEFT JOIN enterprises e ON e.id = a.enterprise_id
    JOIN jurisdictions j ON j.code = COALESCE(a.jurisdiction_code, e.jurisdiction_code)
    WHERE CAST(a.id AS TEXT) = audit_events.entity_id)
WHERE entity_type = 'account';

CREATE INDEX audit_events_scope ON audit_events (jurisdiction_path, seq);
