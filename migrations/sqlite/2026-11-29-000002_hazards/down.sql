DROP TABLE attachments;
DROP TABLE hazard_extensions;
DROP TABLE hazards;
DROP TABLE hazard_code_counters;
