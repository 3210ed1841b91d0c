\i pg_test/helpers.sql
-- The relation form of forecast_sales: every series of a table in one statement.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
-- Three daily series inserted in shuffled order: a constant, a trend, and a
-- constant 4 whose 2024-01-03 is split over two rows (1 + 3, summed).
CREATE TABLE ft_sales (sku text, day date, units int);
INSERT INTO ft_sales
SELECT * FROM (
  SELECT 'a', date '2024-01-01' + d, 5 FROM generate_series(0, 9) d
  UNION ALL SELECT 'b', date '2024-01-01' + d, 10 + 2 * d FROM generate_series(0, 19) d
  UNION ALL SELECT 'c', date '2024-01-01' + d, 4 FROM generate_series(0, 5) d WHERE d <> 2
  UNION ALL VALUES ('c', date '2024-01-03', 1), ('c', date '2024-01-03', 3)
) r ORDER BY md5(r::text);
SELECT series_id, count(*) AS steps, min(period) AS first_period, max(period) AS last_period,
       bool_and(lower <= forecast AND forecast <= upper) AS ordered_intervals,
       CASE WHEN max(upper - lower) = 0 THEN min(forecast) END AS flat_at
  FROM forecast_sales('ft_sales'::regclass, time_column => 'day', value_column => 'units', series_column => 'sku', horizon => 3)
 GROUP BY series_id ORDER BY series_id;
-- The trend's forecast keeps rising. A bare table name works when a named
-- argument rules out the array forms; otherwise it needs ::regclass.
SELECT min(forecast) > 40 AS trend_continues
  FROM forecast_sales('ft_sales', 'day', 'units', 'sku', horizon => 3) WHERE series_id = 'b';
SELECT left(pg_temp.error_of($$SELECT * FROM forecast_sales('ft_sales', 'day', 'units', 'sku')$$), 5) AS bare_name_ambiguous;
-- Rows come ordered by series_id, then period.
SELECT bool_and(n = sorted) AS ordered, count(*) AS total
  FROM (SELECT n, row_number() OVER (ORDER BY series_id COLLATE "C", period) AS sorted
          FROM forecast_sales('ft_sales'::regclass, 'day', 'units', 'sku', horizon => 3)
               WITH ORDINALITY f(series_id, period, forecast, lower, upper, n)) o;
-- Ids of any type become text, ordered byte by byte ('10' before '9').
CREATE TABLE ft_numbered (store int, week date, units numeric);
INSERT INTO ft_numbered SELECT s, date '2024-01-01' + 7 * w, s + w FROM unnest(ARRAY[9, 10]) s, generate_series(0, 7) w;
SELECT series_id, min(period) AS first_period, extract(isodow FROM min(period)) AS weekday, count(*) AS steps
  FROM forecast_sales('ft_numbered'::regclass, 'week', 'units', 'store', horizon => 2)
       WITH ORDINALITY f(series_id, period, forecast, lower, upper, n)
 GROUP BY series_id ORDER BY min(n);
-- series_column => NULL: the whole table is one series, with a NULL series_id.
SELECT series_id IS NULL AS no_id, count(*) AS steps, min(period) AS first_period
  FROM forecast_sales('ft_numbered'::regclass, 'week', 'units', horizon => 2) GROUP BY 1;
-- frequency => 'monthly' sums the weeks into months, as in the dated form.
SELECT series_id, period FROM forecast_sales('ft_numbered'::regclass, 'week', 'units', 'store', horizon => 1, frequency => 'monthly',
                                              method => 'naive');
-- timestamptz and timestamp columns: periods are local to the session's TimeZone.
SET TimeZone = 'America/New_York';
CREATE TABLE ft_stamped (id text, at timestamptz, at_local timestamp, v float8);
INSERT INTO ft_stamped SELECT 'x', t, t, extract(day FROM t) FROM generate_series('2024-03-06'::timestamptz, '2024-03-11', '1 day') t;
SELECT period FROM forecast_sales('ft_stamped'::regclass, 'at', 'v', 'id', horizon => 2);
SELECT period FROM forecast_sales('ft_stamped'::regclass, 'at_local', 'v', 'id', horizon => 2);
SET TimeZone = 'UTC';
-- Hostile identifiers are quoted, never spliced.
CREATE TABLE "ft odd ""t""; DROP TABLE ft_sales; --" ("we""ird; col" date, "Units; --" float8, "SKU" text);
INSERT INTO "ft odd ""t""; DROP TABLE ft_sales; --" SELECT date '2024-01-01' + d, d, 'k' FROM generate_series(0, 9) d;
SELECT series_id, count(*) AS steps
  FROM forecast_sales('"ft odd ""t""; DROP TABLE ft_sales; --"'::regclass, 'we"ird; col', 'Units; --', 'SKU', horizon => 2)
 GROUP BY series_id;
SELECT count(*) AS ft_sales_still_there FROM ft_sales;
-- Column names match exactly: "SKU" is not sku.
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales('"ft odd ""t""; DROP TABLE ft_sales; --"'::regclass, 'we"ird; col', 'Units; --', 'sku')$$) AS case_matters;
-- Rows with a NULL series id or period are skipped with a NOTICE; a NULL value is unknown.
INSERT INTO ft_sales VALUES (NULL, '2024-01-01', 1), (NULL, '2024-01-02', 1), ('a', NULL, 1), ('b', '2024-01-05', NULL);
SELECT series_id, count(*) AS steps FROM forecast_sales('ft_sales'::regclass, 'day', 'units', 'sku', horizon => 1) GROUP BY 1 ORDER BY 1;
-- A fallback to a simpler method is one NOTICE for the whole statement.
SELECT count(*) AS steps FROM forecast_sales('ft_numbered'::regclass, 'week', 'units', 'store', horizon => 1, method => 'snaive', season_length => 52);
-- An error in one series names it, with the core's SQLSTATE.
CREATE TABLE ft_bad (sku text, day date, units float8);
INSERT INTO ft_bad SELECT 'fine', date '2024-01-01' + d, d FROM generate_series(0, 9) d;
INSERT INTO ft_bad VALUES ('sku-17', '2024-01-01', 1), ('sku-17', '2024-01-02', 'NaN');
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales('ft_bad'::regclass, 'day', 'units', 'sku')$$) AS nan_value;
DELETE FROM ft_bad WHERE sku = 'sku-17';
INSERT INTO ft_bad VALUES ('sku-18', '2024-01-01', 1), ('sku-18', '2024-02-01', 2), ('sku-18', '2024-03-15', 3), ('sku-18', '2024-04-01', 4);
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales('ft_bad'::regclass, 'day', 'units', 'sku')$$) AS irregular;
-- The whole-table form has no series to name.
INSERT INTO ft_bad VALUES ('fine', '2024-01-05', 'NaN');
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales('ft_bad'::regclass, 'day', 'units')$$) AS nan_whole_table;
-- Bad columns and arguments.
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales('ft_sales'::regclass, 'nope', 'units', 'sku')$$) AS unknown_time;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales('ft_sales'::regclass, 'day', 'units', 'nope')$$) AS unknown_series;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales('ft_sales'::regclass, 'day', 'sku', 'sku')$$) AS text_value;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales('ft_sales'::regclass, 'units', 'units', 'sku')$$) AS int_time;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales('ft_no_such_table'::regclass, 'day', 'units')$$) AS unknown_table;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales('ft_sales'::regclass, 'day', 'units', 'sku', horizon => 0)$$) AS zero_horizon;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales('ft_sales'::regclass, 'day', 'units', 'sku', frequency => 'fortnightly')$$) AS bad_frequency;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales('ft_sales'::regclass, 'day', 'units', 'sku', method => 'magic')$$) AS bad_method;
-- NULL arguments and an empty table give no rows.
SELECT count(*) AS null_table FROM forecast_sales(NULL::regclass, 'day', 'units');
SELECT count(*) AS null_value_column FROM forecast_sales('ft_sales'::regclass, 'day', NULL);
SELECT count(*) AS null_fill FROM forecast_sales('ft_sales'::regclass, 'day', 'units', 'sku', fill => NULL);
CREATE TABLE ft_empty (sku text, day date, units int);
SELECT count(*) AS empty_table FROM forecast_sales('ft_empty'::regclass, 'day', 'units', 'sku');
-- The caller's privileges hold: no SELECT is 42501, row-level security filters the series.
SET client_min_messages = warning;
DROP ROLE IF EXISTS retailml_regress_forecaster;
RESET client_min_messages;
CREATE ROLE retailml_regress_forecaster;
SET ROLE retailml_regress_forecaster;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales('ft_numbered'::regclass, 'week', 'units', 'store')$$) AS no_select_privilege;
RESET ROLE;
GRANT SELECT ON ft_numbered TO retailml_regress_forecaster;
ALTER TABLE ft_numbered ENABLE ROW LEVEL SECURITY;
CREATE POLICY ft_only_store_9 ON ft_numbered FOR SELECT USING (store = 9);
SET ROLE retailml_regress_forecaster;
SELECT series_id, count(*) AS steps FROM forecast_sales('ft_numbered'::regclass, 'week', 'units', 'store', horizon => 2) GROUP BY 1;
RESET ROLE;
DROP POLICY ft_only_store_9 ON ft_numbered;
REVOKE SELECT ON ft_numbered FROM retailml_regress_forecaster;
DROP ROLE retailml_regress_forecaster;
-- Reads a table and depends on TimeZone: STABLE; SPI keeps it out of parallel workers.
SELECT provolatile, proparallel, procost, prosecdef
  FROM pg_proc WHERE proname = 'forecast_sales' AND proargtypes[0] = 'regclass'::regtype;
