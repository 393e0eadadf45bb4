ALTER TABLE hazards DROP COLUMN public_report_id;
DROP TABLE public_report_photos;
DROP TABLE public_reports;
