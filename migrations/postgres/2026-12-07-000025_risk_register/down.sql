ALTER TABLE enterprises DROP COLUMN computed_risk_level;
DROP TABLE control_measures;
DROP TABLE risk_assessments;
DROP TABLE risk_events;
DROP TABLE risk_units;
