DROP TABLE quarterly_reports;
