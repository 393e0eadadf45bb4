DROP INDEX hazards_search;
DROP FUNCTION hazard_search_grams(text);
