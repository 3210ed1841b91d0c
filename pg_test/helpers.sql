-- Shared by the pg_regress files: run a statement, return its SQLSTATE and message.
CREATE OR REPLACE FUNCTION pg_temp.error_of(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE statement;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
CREATE OR REPLACE FUNCTION pg_temp.cosine(a real[], b real[]) RETURNS float8 LANGUAGE sql IMMUTABLE AS $$
  SELECT sum(x::float8 * y) / sqrt(sum(x::float8 * x) * sum(y::float8 * y)) FROM unnest(a, b) AS u(x, y)
$$;
CREATE OR REPLACE FUNCTION pg_temp.norm(a real[]) RETURNS float8 LANGUAGE sql IMMUTABLE AS $$
  SELECT sqrt(sum(x::float8 * x)) FROM unnest(a) AS u(x)
$$;
