\i pg_test/helpers.sql
-- Trend, seasonal and remainder per period, adding up to the series.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
-- A clear six-period season on a line: recovered, and the parts add up.
CREATE TEMP TABLE s6 AS
SELECT i AS step, 50 + 0.5 * i + (ARRAY[-3, -1, 0, 1, 3, 0])[(i - 1) % 6 + 1] AS y FROM generate_series(1, 60) i;
SELECT count(*) AS rows, min(season) AS season, max(season) AS max_season,
       bool_and(round((trend + seasonal + remainder)::numeric, 6) = round(y::numeric, 6)) AS reconstructs,
       max(abs(seasonal - (y - 50 - 0.5 * d.step))) FILTER (WHERE d.step BETWEEN 13 AND 48) < 0.1 AS season_recovered,
       max(abs(trend - (50 + 0.5 * d.step))) FILTER (WHERE d.step BETWEEN 13 AND 48) < 0.1 AS trend_recovered
  FROM decompose_sales((SELECT array_agg(y ORDER BY step) FROM s6)) d JOIN s6 USING (step);
-- Hundreds of millions keep float64 precision: a ±1 season on 3e8.
WITH big AS (SELECT i AS step, 3e8 + (ARRAY[1, -1, 0.5, -0.5])[(i - 1) % 4 + 1] AS y FROM generate_series(1, 80) i)
SELECT min(season) AS season,
       bool_and(round((trend + seasonal + remainder)::numeric, 6) = round(y::numeric, 6)) AS reconstructs,
       max(abs(seasonal - (y - 3e8))) < 0.05 AS season_recovered
  FROM decompose_sales((SELECT array_agg(y ORDER BY step) FROM big), season_length => 4) d JOIN big USING (step);
-- No season (season_length => 1): seasonal is 0, the trend the least-squares
-- line, and a NOTICE says so. Leading NULLs are dropped, inner ones filled.
SELECT step, round(trend::numeric, 6) AS trend, seasonal, round(remainder::numeric, 6) AS remainder, season
  FROM decompose_sales(ARRAY[NULL, 1, 3, NULL, 5, 9]::float8[], season_length => 1) ORDER BY step;
-- Too short for the cycles of the season asked for (the NOTICE says how many).
SELECT count(*) AS rows, bool_and(seasonal = 0) AS no_seasonal
  FROM decompose_sales(ARRAY[1, 5, 2, 6, 3, 7, 4]::float8[], season_length => 4);
-- Dated: eight weeks of daily sales, busier at weekends: the weekly season
-- (a frequency's natural cycle) is found, weekend days seasonally high.
CREATE TEMP TABLE daily AS
SELECT d::timestamptz AS day, 100 + 60 * (extract(isodow FROM d) >= 6)::int + extract(day FROM d) AS units
  FROM generate_series('2024-01-01'::date, '2024-02-25', '1 day') d;
SELECT count(*) AS rows, min(period) AS first_period, max(period) AS last_period, min(season) AS season,
       bool_and(round((trend + seasonal + remainder)::numeric, 6) = round(units::numeric, 6)) AS reconstructs,
       min(seasonal) FILTER (WHERE extract(isodow FROM period) >= 6)
         > max(seasonal) FILTER (WHERE extract(isodow FROM period) < 6) + 30 AS weekends_high
  FROM decompose_sales((SELECT array_agg(day) FROM daily), (SELECT array_agg(units) FROM daily)) d
  JOIN daily ON day = period;
-- date[] periods give date periods; a missing month is 0 under fill => 'zero'
-- and interpolated under fill => 'interpolate'.
SELECT fill, period, pg_typeof(period) AS type, round((trend + seasonal + remainder)::numeric, 6) AS value
  FROM unnest(ARRAY['zero', 'interpolate']) fill,
       decompose_sales(ARRAY['2024-01-01', '2024-02-01', '2024-03-01', '2024-05-01']::date[], ARRAY[4, 6, 8, 12]::float8[],
                       fill => fill)
 ORDER BY fill, period;
-- NULL arrays give no rows; errors carry their SQLSTATE.
SELECT count(*) AS no_rows FROM decompose_sales(NULL::float8[]);
SELECT count(*) AS no_rows FROM decompose_sales(NULL::timestamptz[], ARRAY[1]::float8[]);
SELECT pg_temp.error_of($$SELECT * FROM decompose_sales(ARRAY[1, 2, 3]::float8[], season_length => 0)$$) AS zero_season;
SELECT pg_temp.error_of($$SELECT * FROM decompose_sales(ARRAY[NULL, NULL]::float8[])$$) AS only_nulls;
SELECT pg_temp.error_of($$SELECT * FROM decompose_sales(ARRAY['2024-01-01', '2024-01-02']::date[], ARRAY[1]::float8[])$$) AS length_mismatch;
SELECT pg_temp.error_of($$SELECT * FROM decompose_sales(ARRAY['2024-01-01', '2024-02-01', '2024-03-15', '2024-04-01']::date[],
                                                         ARRAY[1, 2, 3, 4]::float8[])$$) AS off_grid;
SELECT pg_get_function_identity_arguments(oid) ~ '^periods timestamp' AS timestamptz_form, provolatile, proparallel
  FROM pg_proc WHERE proname = 'decompose_sales' ORDER BY 1, 2;
