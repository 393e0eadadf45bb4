-- Keep in step with ../../postgres/2026-12-03-000012_write_contention/up.sql. PostgreSQL spreads
-- concurrent writers over slots of a tally; SQLite has one writer at a time, so its tallies
-- keep one row each, in slot 0 (the column is here so both trees have the same columns).
-- Hazard codes still come from hazard_code_counters here, bumped in the creating transaction.
ALTER TABLE hazard_tallies ADD COLUMN slot INTEGER NOT NULL DEFAULT 0;
