-- PostgreSQL only (the search index functions and the code of a new hazard); SQLite searches through FTS5 and counts codes in a row.
SELECT 1;
