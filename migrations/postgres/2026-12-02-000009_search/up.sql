-- Search (`q=`) through a text index (docs/ARCHITECTURE.md, "Search"). Chinese search terms are
-- mostly two characters (报警, 消防), which a trigram index cannot serve, so the index holds the
-- character bigrams of code, title and description: a row can contain `q` only if it has every
-- bigram of `q`, which the GIN index answers; the LIKE on each field then decides exactly.
-- Keep the expression in step with db::hazards::list_visible.
CREATE FUNCTION hazard_search_grams(t text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT COALESCE(array_agg(DISTINCT substr(t, i, 2)), '{}'::text[])
          FROM generate_series(1, length(t) - 1) AS i $$;

CREATE INDEX hazards_search ON hazards
    USING gin (hazard_search_grams(lower(code || ' ' || title || ' ' || description)));
