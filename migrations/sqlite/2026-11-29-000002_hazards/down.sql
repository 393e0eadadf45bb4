DROP TABLE attachments;
DROP TABLE deadline_extensions;
DROP TABLE hazards;
DROP TABLE hazard_code_counters;
