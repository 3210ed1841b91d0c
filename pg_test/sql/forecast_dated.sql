\i pg_test/helpers.sql
-- The dated form of forecast_sales: a period stamp beside each value.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
-- A constant series forecasts itself with a zero-width interval, which makes
-- the preparation visible: rows out of order, 2024-01-02 in two rows (2 + 3,
-- summed), the forecast continuing from the day after the last.
SELECT * FROM forecast_sales(ARRAY['2024-01-01', '2024-01-02', '2024-01-04', '2024-01-02', '2024-01-03']::timestamptz[],
                             ARRAY[5, 2, 5, 3, 5]::float8[], horizon => 3);
-- A missing day: 0 by default (no row means no sales), so the series varies
-- and the interval has width; fill => 'interpolate' fills it from its neighbours.
SELECT fill, bool_and(upper - lower > 0) AS interval_has_width
  FROM unnest(ARRAY['zero', 'interpolate']) fill,
       forecast_sales(ARRAY['2024-01-01', '2024-01-02', '2024-01-04', '2024-01-05']::timestamptz[],
                      ARRAY[5, 5, 5, 5]::float8[], horizon => 2, fill => fill)
 GROUP BY fill ORDER BY fill;
-- A NULL value is unknown, not zero: interpolated even under fill => 'zero'.
SELECT forecast, lower, upper
  FROM forecast_sales(ARRAY['2024-01-01', '2024-01-02', '2024-01-03']::timestamptz[],
                      ARRAY[5, NULL, 5]::float8[], horizon => 1);
-- fill => 'error' refuses both.
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY['2024-01-01', '2024-01-03', '2024-01-04']::timestamptz[],
                                                        ARRAY[5, 5, 5]::float8[], fill => 'error')$$) AS gap_refused;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY['2024-01-01', '2024-01-02']::timestamptz[],
                                                        ARRAY[5, NULL]::float8[], fill => 'error')$$) AS null_refused;
-- Four weeks of daily sales, busier at weekends: the forecast keeps the week.
CREATE TEMP TABLE daily AS
SELECT d::timestamptz AS day, 100 + 60 * (extract(isodow FROM d) >= 6)::int + extract(day FROM d) AS units
  FROM generate_series('2024-01-01'::date, '2024-02-25', '1 day') d;
SELECT count(*) AS steps, min(period) AS first_period, max(period) AS last_period,
       bool_and(lower <= forecast AND forecast <= upper) AS ordered_intervals,
       avg(forecast) FILTER (WHERE extract(isodow FROM period) >= 6)
         > avg(forecast) FILTER (WHERE extract(isodow FROM period) < 6) + 30 AS weekends_busier
  FROM forecast_sales((SELECT array_agg(day) FROM daily), (SELECT array_agg(units) FROM daily), horizon => 14);
-- Transactions at any time of day, summed per day with frequency => 'daily'.
SELECT * FROM forecast_sales(ARRAY['2024-01-01 09:12', '2024-01-01 17:40', '2024-01-02 12:00',
                                   '2024-01-03 08:05', '2024-01-03 23:59']::timestamptz[],
                             ARRAY[2, 3, 5, 1, 4]::float8[], horizon => 2, frequency => 'daily');
-- Monthly from date[] at month ends: date periods out, clamped to each month's end.
SELECT pg_typeof(period) AS type, period, lower <= forecast AND forecast <= upper AS ordered
  FROM forecast_sales((SELECT array_agg((date '2023-02-01' + make_interval(months => i) - interval '1 day')::date ORDER BY i)
                         FROM generate_series(0, 23) i),
                      (SELECT array_agg(100 + 20 * sin(2 * pi() * i / 12) + i ORDER BY i) FROM generate_series(0, 23) i),
                      horizon => 4);
-- The forecast follows the yearly season of six years of monthly data (peak in April, trough in October).
WITH f AS (
  SELECT * FROM forecast_sales((SELECT array_agg((date '2018-01-01' + make_interval(months => t))::date ORDER BY t) FROM generate_series(0, 71) t),
                               (SELECT array_agg(100 + 20 * cos(2 * pi() * (t - 3) / 12) + t / 2.0 ORDER BY t) FROM generate_series(0, 71) t),
                               horizon => 12))
SELECT (SELECT forecast FROM f WHERE period = '2024-04-01') > (SELECT forecast FROM f WHERE period = '2024-10-01') + 20 AS follows_season,
       (SELECT count(*) FROM f) AS steps, (SELECT min(period) FROM f) AS first_period;
-- Weekly from dates keeps the weekday (Wednesdays), quarterly and yearly step by calendar.
SELECT period, extract(isodow FROM period) AS weekday
  FROM forecast_sales(ARRAY['2024-01-03', '2024-01-10', '2024-01-24', '2024-01-17']::date[], ARRAY[1, 2, 3, 4]::float8[], horizon => 2);
SELECT period FROM forecast_sales(ARRAY['2023-02-15', '2023-05-15', '2023-08-15']::date[], ARRAY[1, 2, 3]::float8[], horizon => 2);
SELECT period FROM forecast_sales(ARRAY['2019-02-28', '2020-02-29']::date[], ARRAY[1, 2]::float8[], horizon => 4);
-- Stamps not on one grid: 22023 with a hint to pass a frequency.
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY['2024-01-01', '2024-02-01', '2024-03-15', '2024-04-01']::date[],
                                                        ARRAY[1, 2, 3, 4]::float8[])$$) AS off_grid;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY['2024-01-01', '2024-01-02', '2024-01-03', '2024-01-10', '2024-01-17']::date[],
                                                        ARRAY[1, 2, 3, 4, 5]::float8[])$$) AS mixed_gaps;
\set VERBOSITY default
SELECT * FROM forecast_sales(ARRAY['2024-01-01', '2024-01-15', '2024-01-29']::date[], ARRAY[1, 2, 3]::float8[]);
\set VERBOSITY terse
-- The same data with a frequency sums into its periods instead.
SELECT period FROM forecast_sales(ARRAY['2024-01-01', '2024-01-15', '2024-01-29']::date[], ARRAY[1, 2, 3]::float8[],
                                  horizon => 1, frequency => 'weekly');
-- Periods are local to the session's TimeZone: days are local days through
-- a DST change, and the forecast periods are local midnights.
SET TimeZone = 'America/New_York';
SELECT period FROM forecast_sales(ARRAY['2024-03-08', '2024-03-09', '2024-03-10', '2024-03-11']::timestamptz[],
                                  ARRAY[1, 2, 3, 4]::float8[], horizon => 2);
-- Hourly steps in absolute time: the repeated 01:00 of the autumn change is two hours, not one.
SELECT period FROM forecast_sales((SELECT array_agg(t) FROM generate_series('2024-11-03 00:00-04'::timestamptz, '2024-11-03 02:00-05', '1 hour') t),
                                  ARRAY[1, 2, 3, 4]::float8[], horizon => 2);
-- In UTC the New York midnights before and after the change are at different hours.
SET TimeZone = 'UTC';
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY['2024-03-08 00:00-05', '2024-03-09 00:00-05', '2024-03-10 00:00-05', '2024-03-11 00:00-04']::timestamptz[],
                                                        ARRAY[1, 2, 3, 4]::float8[])$$) AS utc_days;
-- The timestamptz form depends on TimeZone (STABLE), the date form does not (IMMUTABLE).
SELECT pg_get_function_identity_arguments(oid) AS arguments, provolatile, proparallel
  FROM pg_proc WHERE proname = 'forecast_sales' ORDER BY 1;
-- NULL arguments give no rows; frequency => NULL infers it.
SELECT count(*) AS null_periods FROM forecast_sales(NULL::date[], ARRAY[1, 2]::float8[]);
SELECT count(*) AS null_series FROM forecast_sales(ARRAY['2024-01-01', '2024-01-02']::date[], NULL);
SELECT count(*) AS null_fill FROM forecast_sales(ARRAY['2024-01-01', '2024-01-02']::date[], ARRAY[1, 2]::float8[], fill => NULL);
SELECT count(*) AS inferred FROM forecast_sales(ARRAY['2024-01-01', '2024-01-02']::date[], ARRAY[1, 2]::float8[], frequency => NULL);
-- Bad input: clear errors with their SQLSTATE.
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY['2024-01-01', '2024-01-02']::date[], ARRAY[1, 2, 3]::float8[])$$) AS lengths_differ;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY['2024-01-01', NULL]::date[], ARRAY[1, 2]::float8[])$$) AS null_period;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY['2024-01-01', 'infinity']::timestamptz[], ARRAY[1, 2]::float8[])$$) AS infinite_period;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY['2024-01-01', '-infinity']::date[], ARRAY[1, 2]::float8[])$$) AS infinite_date;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY['2024-01-01', '2024-01-02']::date[], ARRAY[1, 2]::float8[], frequency => 'fortnightly')$$) AS bad_frequency;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY['2024-01-01', '2024-01-02']::date[], ARRAY[1, 2]::float8[], fill => 'previous')$$) AS bad_fill;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY['2024-01-01', '2024-01-02']::date[], ARRAY[1, 2]::float8[], frequency => 'hourly')$$) AS hourly_dates;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY['2024-01-01']::date[], ARRAY[1]::float8[])$$) AS single_period;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY['2024-01-01', '2024-01-02']::date[], ARRAY[1, 2]::float8[], horizon => 0)$$) AS zero_horizon;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY[]::date[], ARRAY[]::float8[])$$) AS empty;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY['2024-01-01', '2024-01-02']::date[], ARRAY[1, 'NaN']::float8[])$$) AS nan_value;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY['2000-01-01', '2024-01-01']::timestamptz[], ARRAY[1, 2]::float8[], frequency => 'hourly')$$) AS too_long;
-- The first and last timestamps Postgres has: too long hourly, irregular otherwise, no overflow.
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY['4713-11-24 00:00+00 BC', '294276-12-31 23:00+00']::timestamptz[], ARRAY[1, 2]::float8[], frequency => 'hourly')$$) AS whole_range_hourly;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY['4713-11-24 00:00+00 BC', '294276-12-31 23:00+00']::timestamptz[], ARRAY[1, 2]::float8[])$$) AS whole_range;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY['294270-01-01', '294271-01-01']::date[], ARRAY[1, 2]::float8[], horizon => 10)$$) AS past_the_end;
-- A single period with a frequency forecasts like the undated form.
SELECT * FROM forecast_sales(ARRAY['2024-01-01']::date[], ARRAY[7]::float8[], horizon => 2, frequency => 'monthly');
