ALTER TABLE hazard_tallies DROP COLUMN slot;
