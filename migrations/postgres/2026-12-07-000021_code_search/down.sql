DROP INDEX hazards_code_prefix;
DROP INDEX hazards_search;
CREATE INDEX hazards_search ON hazards
    USING gin (hazard_search_grams(lower(code || ' ' || title || ' ' || description)));
DROP FUNCTION hazard_code_grams(text);
