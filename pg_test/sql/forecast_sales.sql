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
-- Every method forecasts the monthly series with ordered intervals.
SELECT m AS method, count(*) AS steps, bool_and(lower <= forecast AND forecast <= upper) AS ordered
  FROM monthly, unnest(ARRAY['auto', 'naive', 'snaive', 'ets', 'mstl', 'theta', ' Theta ']) m,
       forecast_sales(y, horizon => 12, method => m)
 GROUP BY m ORDER BY m;
-- Seasonal naive repeats the last season exactly.
SELECT bool_and(f.forecast = y[60 + f.step]) AS snaive_repeats
  FROM monthly, forecast_sales(y, horizon => 12, season_length => 12, method => 'snaive') f;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY[1,2,3]::float8[], method => 'arima')$$) AS unknown_method;
SELECT count(*) AS null_method FROM forecast_sales(ARRAY[1, 2, 3]::float8[], method => NULL);
-- Sales are clipped at 0 unless negatives are allowed.
SELECT min(forecast) AS clipped, min(lower) AS clipped_lower
  FROM forecast_sales(ARRAY[40, 30, 20, 10, 5, 2, 1, 0.5]::float8[], horizon => 6);
SELECT max(forecast) < 0 AS negative_kept
  FROM forecast_sales(ARRAY[-10, -20, -30, -40, -50, -60, -70, -80]::float8[], horizon => 3, allow_negative => true);
-- A method that cannot fit falls back to naive with a NOTICE.
SELECT step, forecast FROM forecast_sales(ARRAY[3, 4, 5]::float8[], horizon => 2, season_length => 12, method => 'snaive');
-- Intermittent demand: mostly zeros, no NaN, nothing negative.
SELECT count(*) AS steps, bool_and(forecast >= 0 AND lower >= 0 AND upper >= forecast) AS sane
  FROM forecast_sales((SELECT array_agg(CASE WHEN i % 9 = 0 THEN 4 ELSE 0 END ORDER BY i)::float8[]
                         FROM generate_series(1, 80) i), horizon => 10);
SELECT count(*) AS all_zero_steps, max(upper) AS all_zero_upper
  FROM forecast_sales(array_fill(0::float8, ARRAY[50]), horizon => 5);
-- Values near the float8 limit and totals in the hundreds of millions keep their precision:
-- a swing of a few units on 300 million survives (float32 would round it to multiples of 32).
SELECT count(*) AS huge_values FROM forecast_sales(ARRAY[1e308, 1.5e308, 1.2e308, 1.7e308, 1e308]::float8[], horizon => 3);
SELECT round(forecast - 3e8) AS swing
  FROM forecast_sales((SELECT array_agg(3e8 + (ARRAY[0, 3, -2, 5])[1 + i % 4] ORDER BY i)::float8[]
                         FROM generate_series(0, 47) i), horizon => 4, season_length => 4, method => 'mstl');
