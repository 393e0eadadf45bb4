-- Every audit event carries the tree path of the jurisdiction its entity belongs to, so the
-- audit log can be read within a city (two cities on one server never see each other's
-- events). NULL for what belongs to no jurisdiction (reference data).
ALTER TABLE audit_events ADD COLUMN jurisdiction_path TEXT;

-- Backfill: one join per entity type (the entity's id as text against entity_id).
UPDATE audit_events ae SET jurisdiction_path = j.path
FROM hazards x JOIN jurisdictions j ON j.code = x.jurisdiction_code
WHERE ae.entity_type = 'hazard' AND ae.entity_id = CAST(x.id AS TEXT);
UPDATE audit_events ae SET jurisdiction_path = j.path
FROM enterprises x JOIN jurisdictions j ON j.code = x.jurisdiction_code
WHERE ae.entity_type = 'enterprise' AND ae.entity_id = CAST(x.id AS TEXT);
UPDATE audit_events ae SET jurisdiction_path = j.path
FROM listings x JOIN jurisdictions j ON j.code = x.jurisdiction_code
WHERE ae.entity_type = 'listing' AND ae.entity_id = CAST(x.id AS TEXT);
UPDATE audit_events ae SET jurisdiction_path = j.path
FROM problem_items x JOIN jurisdictions j ON j.code = x.owner_jurisdiction_code
WHERE ae.entity_type = 'problem_item' AND ae.entity_id = CAST(x.id AS TEXT);
UPDATE audit_events ae SET jurisdiction_path = j.path
FROM measure_items x JOIN jurisdictions j ON j.code = x.owner_jurisdiction_code
WHERE ae.entity_type = 'measure_item' AND ae.entity_id = CAST(x.id AS TEXT);
UPDATE audit_events ae SET jurisdiction_path = j.path
FROM list_submissions x JOIN jurisdictions j ON j.code = x.owner_jurisdiction_code
WHERE ae.entity_type = 'list_submission' AND ae.entity_id = CAST(x.id AS TEXT);
UPDATE audit_events ae SET jurisdiction_path = j.path
FROM accounts a LEFT JOIN enterprises e ON e.id = a.enterprise_id
JOIN jurisdictions j ON j.code = COALESCE(a.jurisdiction_code, e.jurisdiction_code)
WHERE ae.entity_type = 'account' AND ae.entity_id = CAST(a.id AS TEXT);

CREATE INDEX audit_events_scope ON audit_events (jurisdiction_path, seq);
