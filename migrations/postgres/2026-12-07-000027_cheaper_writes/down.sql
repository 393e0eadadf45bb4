DROP FUNCTION hazard_code_take(text);

CREATE OR REPLACE FUNCTION hazard_search_grams(t text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT COALESCE(array_agg(DISTINCT substr(t, i, 2)), '{}'::text[])
          FROM generate_series(1, length(t) - 1) AS i $$;

CREATE OR REPLACE FUNCTION hazard_code_grams(t text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT COALESCE(array_agg(DISTINCT '#' || substr(t, i, 2)), '{}'::text[])
          FROM generate_series(1, length(t) - 1) AS i $$;
