-- PostgreSQL only (its code-prefix search); SQLite's FTS5 trigram index already keeps the
-- code in a column of its own.
SELECT 1;
