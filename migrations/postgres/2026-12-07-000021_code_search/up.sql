-- Search by code prefix (docs/ARCHITECTURE.md, "Search"). A code prefix such as `431302-2025`
-- shares its bigrams with nearly every code, so in one bigram set with title and description
-- it made the text index hand back most of the table. The index now keeps the code's bigrams
-- apart (`hazard_code_grams`: each marked with `#`, so they are three characters and never
-- equal a text bigram), so a term's text candidates are no longer every code; and a term
-- that can only match at the start of a code is answered by a prefix range on
-- `hazards_code_prefix`. Keep the expressions in step with db::hazards::search_filter.
CREATE FUNCTION hazard_code_grams(t text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT COALESCE(array_agg(DISTINCT '#' || substr(t, i, 2)), '{}'::text[])
          FROM generate_series(1, length(t) - 1) AS i $$;

DROP INDEX hazards_search;
CREATE INDEX hazards_search ON hazards USING gin (
    (hazard_search_grams(lower(title || ' ' || description)) || hazard_code_grams(lower(code))));
CREATE INDEX hazards_code_prefix ON hazards (lower(code) text_pattern_ops);
