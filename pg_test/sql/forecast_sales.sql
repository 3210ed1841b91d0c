\i pg_test/helpers.sql
-- A monthly seasonal series with trend: 12 steps, ordered intervals, numbered steps.
CREATE TEMP TABLE monthly AS
SELECT array_agg(100 + 20 * sin(2 * pi() * i / 12) + i ORDER BY i) AS y FROM generate_series(1, 72) i;
SELECT count(*) AS steps, min(step) AS first_step, max(step) AS last_step,
       bool_and(lower <= forecast AND forecast <= upper) AS ordered_intervals
  FROM monthly, forecast_sales(y, horizon => 12);
-- The forecast follows the season: step 3 (the seasonal peak) above step 9 (the trough).
SELECT (SELECT forecast FROM monthly, forecast_sales(y, horizon => 12) WHERE step = 3)
     > (SELECT forecast FROM monthly, forecast_sales(y, horizon => 12) WHERE step = 9) AS follows_season;
-- A wider level gives a wider interval.
SELECT bool_and(w.upper - w.lower >= n.upper - n.lower) AS wider_at_99
  FROM monthly,
       forecast_sales(y, horizon => 6, season_length => 12, level => 0.8) n
       JOIN forecast_sales(y, horizon => 6, season_length => 12, level => 0.99) w USING (step);
-- Default horizon is 14; a non-seasonal series works too.
SELECT count(*) AS default_horizon FROM forecast_sales(ARRAY[5, 7, 6, 8, 9, 8, 10, 11]::float8[]);
-- Many series in one query through LATERAL.
CREATE TEMP TABLE weekly_sales AS
SELECT 'sku' || s AS sku, w AS week, 50 * s + 5 * sin(w) + w AS units
  FROM generate_series(1, 3) s, generate_series(1, 40) w;
SELECT s.sku, count(*) AS steps, bool_and(f.forecast BETWEEN 50 * substr(s.sku, 4)::int AND 50 * substr(s.sku, 4)::int + 60) AS plausible
  FROM (SELECT sku, array_agg(units ORDER BY week) AS units FROM weekly_sales GROUP BY sku) s
  CROSS JOIN LATERAL forecast_sales(s.units, horizon => 8) f
 GROUP BY s.sku ORDER BY s.sku;
-- NULL elements are missing values, not zeros.
SELECT min(forecast) > 50 AS nulls_not_zero
  FROM forecast_sales(ARRAY[100, 101, NULL, 103, 104, NULL, 106]::float8[], horizon => 3);
-- NULL arguments give no rows.
SELECT count(*) AS null_series FROM forecast_sales(NULL::float8[]);
SELECT count(*) AS null_horizon FROM forecast_sales(ARRAY[1, 2, 3]::float8[], horizon => NULL);
-- Bad input: clear errors with the documented SQLSTATE.
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY[1,2,3]::float8[], horizon => 0)$$) AS zero_horizon;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY[1,2,3]::float8[], horizon => -5)$$) AS negative_horizon;
SELECT left(pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY[1,2,3]::float8[], horizon => 1000000)$$), 5) AS huge_horizon;
SELECT left(pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY[1,2,3]::float8[], level => 1)$$), 5) AS level_one;
SELECT left(pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY[1,2,3]::float8[], level => 0)$$), 5) AS level_zero;
SELECT left(pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY[1,2,3]::float8[], level => 'NaN')$$), 5) AS level_nan;
SELECT left(pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY[1,2,3]::float8[], season_length => 0)$$), 5) AS season_zero;
SELECT left(pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY[]::float8[])$$), 5) AS empty_series;
SELECT left(pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY[NULL, NULL]::float8[])$$), 5) AS all_null_series;
SELECT left(pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY[1, 'NaN', 3]::float8[])$$), 5) AS nan_value;
SELECT left(pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY[1, 'Infinity', 3]::float8[])$$), 5) AS infinite_value;
-- Short and degenerate series still forecast.
SELECT count(*) AS one_point FROM forecast_sales(ARRAY[42]::float8[], horizon => 3);
SELECT count(*) AS constant FROM forecast_sales(array_fill(7::float8, ARRAY[30]), horizon => 3);
-- A series over the length limit is refused at once.
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(array_fill(1::float8, ARRAY[100001]))$$) AS too_long;
