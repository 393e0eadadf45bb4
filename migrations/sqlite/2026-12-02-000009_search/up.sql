-- Search (`q=`) through a text index (docs/ARCHITECTURE.md, "Search"): an FTS5 index with the
-- trigram tokenizer over code, title and description, kept by triggers (so every write path,
-- bulk loads included, keeps it current). A row can contain `q` (three characters or more)
-- only if the index matches it as a phrase; the LIKE on each field then decides exactly.
CREATE VIRTUAL TABLE hazards_search USING fts5(
    code, title, description,
    content = 'hazards', content_rowid = 'id', tokenize = 'trigram'
);

CREATE TRIGGER hazards_search_insert AFTER INSERT ON hazards BEGIN
    INSERT INTO hazards_search (rowid, code, title, description)
    VALUES (new.id, new.code, new.title, new.description);
END;

CREATE TRIGGER hazards_search_delete AFTER DELETE ON hazards BEGIN
    INSERT INTO hazards_search (hazards_search, rowid, code, title, description)
    VALUES ('delete', old.id, old.code, old.title, old.description);
END;

CREATE TRIGGER hazards_search_update AFTER UPDATE OF code, title, description ON hazards BEGIN
    INSERT INTO hazards_search (hazards_search, rowid, code, title, description)
    VALUES ('delete', old.id, old.code, old.title, old.description);
    INSERT INTO hazards_search (rowid, code, title, description)
    VALUES (new.id, new.code, new.title, new.description);
END;

INSERT INTO hazards_search (hazards_search) VALUES ('rebuild');
