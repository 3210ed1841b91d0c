#!/usr/bin/env bash
# Tier 3: a long embedding, forecast or segmentation stops within a second
# of pg_cancel_backend, and statement_timeout holds, for the per-row and the
# batch forms of the text and image embeddings, the relation form of
# forecast_sales, forecasts, backtests and decompositions of long series,
# customer_rfm on 3 million transactions and segment_customers on a million
# customers, on the project's cluster with the installed extension.
source "$(dirname "$0")/common.sh"
cd "$ROOT"

bash scripts/cluster.sh start
DB=retailml_cancel
PGOPTIONS="-c client_min_messages=warning" run_psql -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
run_psql -q -d "$DB" <<'SQL'
CREATE EXTENSION retailml;
CREATE TABLE reviews AS
  -- about 200 word pieces each, so that batching by text count would hold
  -- thousands of tokens per call
  SELECT i AS id, 'Review ' || i || ':' || repeat(' the coffee arrived quickly, tasted fresh and I would buy it again.', 12) AS review
    FROM generate_series(1, 20000) i;
-- 5,000 daily series of 400 days: read in about 2 s, then about 10 s of
-- forecasting, so the cancel lands among the forecasts.
CREATE TABLE sales AS
  SELECT 'item-' || s AS sku, date '2020-01-01' + d AS day, 10 + 5 * sin(d * 2 * pi() / 7) + (s * d) % 3 AS units
    FROM generate_series(1, 5000) s, generate_series(0, 399) d;
-- A million customers with 16 features: reading and clustering take longer
-- than the 3 s before the cancel.
CREATE TABLE customers AS
  SELECT i AS id, (i % 97)::float8 AS f01, (i % 89)::float8 AS f02, (i % 83)::float8 AS f03, (i % 79)::float8 AS f04,
         (i % 73)::float8 AS f05, (i % 71)::float8 AS f06, (i % 67)::float8 AS f07, (i % 61)::float8 AS f08,
         (i % 59)::float8 AS f09, (i % 53)::float8 AS f10, (i % 47)::float8 AS f11, (i % 43)::float8 AS f12,
         (i % 41)::float8 AS f13, (i % 37)::float8 AS f14, (i % 31)::float8 AS f15, (i % 29)::float8 AS f16
    FROM generate_series(1, 1000000) i;
ALTER TABLE customers ADD PRIMARY KEY (id);
-- 3 million transactions of 300,000 customers: about 10 s of aggregation.
CREATE TABLE transactions AS
  SELECT i % 300000 AS customer, timestamptz '2024-01-01' + i * interval '7 seconds' AS at, (i % 50)::numeric AS amount
    FROM generate_series(1, 3000000) i;
-- Ten series of 100,000 values (the longest allowed): one forecast or
-- decomposition of each takes seconds inside a single call.
CREATE TABLE long_series AS
  SELECT s, array_agg(10 + 5 * sin(i * 2 * pi() / 7) + 3 * sin(i * 2 * pi() / 365) + ((i * 7919 + s) % 13) ORDER BY i)::float8[] AS units
    FROM generate_series(1, 10) s, generate_series(1, 100000) i GROUP BY s;
\set img `base64 -w0 crates/embed/tests/data/images/opencv_apple.jpg`
CREATE TABLE photo AS SELECT decode(:'img', 'base64') AS image;
SQL

# 20,000 rows take minutes, so each statement is still running when stopped.
declare -A STATEMENTS=(
  [per-row]="SELECT count(embed_review(review)) FROM reviews"
  [batch]="SELECT count(*) FROM embed_reviews((SELECT array_agg(review) FROM reviews))"
  [batch-e5]="SELECT count(*) FROM embed_reviews((SELECT array_agg(review) FROM reviews), model => 'multilingual-e5-small')"
  [forecast-table]="SELECT count(*) FROM forecast_sales('sales'::regclass, 'day', 'units', 'sku')"
  [segment]="SELECT count(*) FROM segment_customers('customers'::regclass, 8)"
  [image-per-row]="SELECT count(embed_image(image)) FROM photo, generate_series(1, 5000)"
  [image-batch]="SELECT count(*) FROM embed_images((SELECT array_fill(image, ARRAY[1000]) FROM photo))"
  [rfm]="SELECT count(*) FROM customer_rfm('transactions'::regclass, 'customer', 'at', 'amount')"
  [forecast-long]="SELECT count(*) FROM long_series, forecast_sales(units, horizon => 14)"
  [backtest-long]="SELECT count(*) FROM long_series, backtest_sales(units, horizon => 100, folds => 100)"
  [decompose-long]="SELECT count(*) FROM long_series, decompose_sales(units)"
)
now() { date +%s.%N; }
# seconds since $1, and whether that is below $2
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
below() { awk -v x="$1" -v limit="$2" 'BEGIN { exit !(x < limit) }'; }
failed=0
for name in per-row batch batch-e5 image-per-row image-batch forecast-table forecast-long backtest-long decompose-long rfm segment; do
  statement=${STATEMENTS[$name]}
  err=$(mktemp)
  PGAPPNAME="cancel-$name" run_psql -q -d "$DB" -c "$statement" >/dev/null 2>"$err" &
  client=$!
  sleep 3
  asked=$(now)
  cancelled=$(run_psql -qtA -d "$DB" -c "SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity WHERE application_name = 'cancel-$name' AND state = 'active'")
  wait "$client" || true
  took=$(since "$asked")
  if [ "$cancelled" -ge 1 ] && grep -q "canceling statement due to user request" "$err" && below "$took" 1.0; then
    echo "cancel $name: stopped ${took}s after pg_cancel_backend"
  else
    echo "cancel $name: FAILED (backends signalled, parallel workers included: $cancelled, took ${took}s): $(cat "$err")"; failed=1
  fi
  start=$(now)
  run_psql -q -d "$DB" -c "SET statement_timeout = '2s'" -c "$statement" >/dev/null 2>"$err" || true
  took=$(since "$start")
  if grep -q "canceling statement due to statement timeout" "$err" && below "$took" 3.0; then
    echo "timeout $name: stopped after ${took}s with statement_timeout = 2s"
  else
    echo "timeout $name: FAILED (took ${took}s): $(cat "$err")"; failed=1
  fi
  rm -f "$err"
done
run_psql -q -d postgres -c "DROP DATABASE $DB"
exit $failed
