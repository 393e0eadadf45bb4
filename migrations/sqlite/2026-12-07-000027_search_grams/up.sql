-- PostgreSQL only (its search index functions); SQLite searches through FTS5.
SELECT 1;
