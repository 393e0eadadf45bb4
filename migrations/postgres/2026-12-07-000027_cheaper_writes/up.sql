-- The bigram functions of the search index (migrations 000009 and 000021), rewritten in
-- PL/pgSQL. As SQL functions with an aggregate they could not be inlined, so every insert or
-- update of a hazard (each its own statement) parsed, planned and ran their bodies afresh:
-- about 90 µs of PostgreSQL's time per write. PL/pgSQL compiles a function once per
-- session; the loop takes about 30 µs.
--
-- The arrays may now hold a bigram twice. Nothing changes for the index: GIN keeps each key of
-- a row once (it sorts and de-duplicates what the function returns), and `@>` asks only
-- whether every bigram of the term is there. The index holds exactly the keys it held, so it
-- is not rebuilt.
CREATE OR REPLACE FUNCTION hazard_search_grams(t text) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    grams text[] := '{}';
BEGIN
    FOR i IN 1 .. length(t) - 1 LOOP
        grams := grams || substr(t, i, 2);
    END LOOP;
    RETURN grams;
END $$;

CREATE OR REPLACE FUNCTION hazard_code_grams(t text) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    grams text[] := '{}';
BEGIN
    FOR i IN 1 .. length(t) - 1 LOOP
        grams := grams || ('#' || substr(t, i, 2));
    END LOOP;
    RETURN grams;
END $$;

-- The next code of a prefix, `<prefix>-<number, at least 5 digits>`, for the hazard's own
-- INSERT (db::hazards::insert): one statement fewer per create than asking for the number first.
CREATE FUNCTION hazard_code_take(p text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    n text := hazard_code_next(p)::text;
BEGIN
    RETURN p || '-' || lpad(n, greatest(5, length(n)), '0');
END $$;
