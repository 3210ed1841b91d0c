\i pg_test/helpers.sql
-- Rolling-origin backtests. Forecast numbers change with the methods, so
-- these check the folds' shape and ranges, not exact scores.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
-- 60 values, 4 folds of 8: origins step back 8 at a time from position 52.
SELECT fold, origin, smape BETWEEN 0 AND 200 AS smape_ok, mase >= 0 AS mase_ok,
       coverage BETWEEN 0 AND 1 AS coverage_ok, method <> '' AS has_method
  FROM backtest_sales((SELECT array_agg(100 + 10 * sin(2 * pi() * i / 12) + i ORDER BY i) FROM generate_series(1, 60) i),
                      horizon => 8, folds => 4)
 ORDER BY fold;
-- A perfect season forecast by seasonal naive scores 0 and covers every point;
-- its in-sample seasonal naive error is 0 too, so MASE is undefined (NULL).
SELECT fold, origin, round(smape::numeric, 9) AS smape, mase, coverage
  FROM backtest_sales((SELECT array_agg((ARRAY[10, 20, 30, 20])[i % 4 + 1] ORDER BY i) FROM generate_series(0, 47) i),
                      horizon => 4, folds => 3, season_length => 4, method => 'snaive')
 ORDER BY fold;
-- Naive on a line of slope 1 with no season: each fold's errors are 1..5,
-- the in-sample naive error 1, so MASE is exactly 3.
SELECT fold, origin, mase
  FROM backtest_sales((SELECT array_agg(10 + i ORDER BY i) FROM generate_series(0, 39) i)::float8[],
                      horizon => 5, folds => 3, season_length => 1, method => 'naive')
 ORDER BY fold;
-- NULL held-out values are not scored: the last fold has none to score.
SELECT fold, smape IS NULL AS unscored
  FROM backtest_sales(ARRAY[1, 2, 3, 4, 5, 6, 7, 8, NULL, NULL]::float8[], horizon => 2, folds => 2, method => 'naive')
 ORDER BY fold;
-- Dated: eight weeks of daily sales, busier at weekends, regularised once;
-- origins are the last training day of each fold.
CREATE TEMP TABLE daily AS
SELECT d::timestamptz AS day, 100 + 60 * (extract(isodow FROM d) >= 6)::int + extract(day FROM d) AS units
  FROM generate_series('2024-01-01'::date, '2024-02-25', '1 day') d;
SELECT fold, origin, coverage BETWEEN 0 AND 1 AS coverage_ok, smape < 20 AS smape_small
  FROM backtest_sales((SELECT array_agg(day) FROM daily), (SELECT array_agg(units) FROM daily), horizon => 7, folds => 3)
 ORDER BY fold;
-- date[] periods give date origins; the missing March is a period (0 under fill => 'zero').
SELECT fold, pg_typeof(origin) AS type, origin
  FROM backtest_sales(ARRAY['2024-01-01', '2024-02-01', '2024-04-01', '2024-05-01', '2024-06-01', '2024-07-01']::date[],
                      ARRAY[5, 6, 8, 9, 10, 11]::float8[], horizon => 2, folds => 2, method => 'naive')
 ORDER BY fold;
-- NULL arrays or options give no rows.
SELECT count(*) AS no_rows FROM backtest_sales(NULL::float8[]);
SELECT count(*) AS no_rows FROM backtest_sales(ARRAY[1, 2, 3]::float8[], folds => NULL);
SELECT count(*) AS no_rows FROM backtest_sales(NULL::date[], ARRAY[1, 2, 3]::float8[]);
-- Errors: bad folds 22023, a series too short for the folds 22000 (saying how
-- many points it needs), folds or folds × horizon over the limit 54000.
SELECT pg_temp.error_of($$SELECT * FROM backtest_sales(ARRAY[1, 2, 3, 4, 5]::float8[], horizon => 1, folds => 0)$$) AS zero_folds;
SELECT pg_temp.error_of($$SELECT * FROM backtest_sales(ARRAY[1, 2, 3, 4, 5]::float8[], horizon => 0)$$) AS zero_horizon;
SELECT pg_temp.error_of($$SELECT * FROM backtest_sales(ARRAY[1, 2, 3, 4, 5, 6, 7, 8, 9]::float8[], horizon => 2, folds => 4)$$) AS too_short;
SELECT pg_temp.error_of($$SELECT * FROM backtest_sales(ARRAY[1, 2, 3]::float8[], horizon => 1, folds => 101)$$) AS too_many_folds;
SELECT pg_temp.error_of($$SELECT * FROM backtest_sales(ARRAY[1, 2, 3]::float8[], horizon => 5000, folds => 3)$$) AS too_much_held_out;
SELECT pg_temp.error_of($$SELECT * FROM backtest_sales(ARRAY['2024-01-01', '2024-01-02']::date[], ARRAY[1, 2]::float8[],
                                                        frequency => 'hourly')$$) AS hourly_dates;
-- Volatility as forecast_sales: timestamptz is STABLE, the rest IMMUTABLE.
SELECT pg_get_function_identity_arguments(oid) ~ '^periods timestamp' AS timestamptz_form, provolatile, proparallel
  FROM pg_proc WHERE proname = 'backtest_sales' ORDER BY 1, 2;
