DROP TRIGGER hazards_search_update;
DROP TRIGGER hazards_search_delete;
DROP TRIGGER hazards_search_insert;
DROP TABLE hazards_search;
