#!/usr/bin/env bash
# Tier 3: the upgrade from the previous release. Builds and installs that
# release from its commit, makes data, saved segment models (one of another
# role) and forecasts with it, installs the current build, runs ALTER
# EXTENSION retailml UPDATE and checks that the old models score the same
# customers into the same segments with the same profiles, that the new
# functions and jobs work, and that the updated extension has exactly the
# objects and definitions of a fresh CREATE EXTENSION (the drift check: it
# fails when the SQL surface changes without sql/retailml--A--B.sql).
# Ends with the current build installed, as it found it.
source "$(dirname "$0")/common.sh"
cd "$ROOT"

PREVIOUS=0.1.0
# The release's commit rather than its tag: a tag does not travel with every
# copy of the repository (a clone of a branch, a hand-over of main), the
# history does.
PREVIOUS_COMMIT=1ccb19c00fd5645b9a1ddaa7ddbdd5df9ba9a882
CURRENT=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
RELEASE="$TARGET_DIR/retailml-releases/$PREVIOUS"
DB=retailml_upgrade
FRESH_DB=retailml_upgrade_fresh
FLAT_DB=retailml_upgrade_flat
ANALYST=retailml_upgrade_analyst
started=$(date +%s)

if ! git cat-file -e "$PREVIOUS_COMMIT^{commit}" 2>/dev/null; then
  echo "upgrade test: commit $PREVIOUS_COMMIT of release $PREVIOUS is not in this clone (a shallow clone? git fetch --unshallow)" >&2
  exit 1
fi
if [ ! -f "sql/retailml--$PREVIOUS--$CURRENT.sql" ]; then
  echo "upgrade test: sql/retailml--$PREVIOUS--$CURRENT.sql is missing: $CURRENT needs an upgrade script from $PREVIOUS" >&2
  exit 1
fi

# A release's build never changes: it is made once per build directory.
if [ ! -d "$RELEASE/package" ]; then
  say "building retailml $PREVIOUS from its commit ${PREVIOUS_COMMIT:0:7}"
  rm -rf "$RELEASE"
  mkdir -p "$RELEASE/source"
  # -m: the files get the current time, not the commit's, so that cargo
  # compiles them rather than trusting files another tree built since.
  git archive "$PREVIOUS_COMMIT" | tar -x -m -C "$RELEASE/source"
  # Cargo's hash of a path crate leaves out its directory, so the release's
  # crates/* (whose versions do not change between releases) would build
  # the same target/release/deps files as the current tree's, each taking
  # the other's for its own: a version of their own keeps them apart.
  sed -i '0,/^version = "\(.*\)"$/s//version = "\1-release-'"$PREVIOUS"'"/' "$RELEASE"/source/crates/*/Cargo.toml
  (cd "$RELEASE/source" && cargo pgrx package --pg-config "$PG_CONFIG" --out-dir "$RELEASE/package.partial")
  # The extension's library is target/release/libretailml.so for every tree
  # (cargo gives a path crate's cdylib no hash): removed, so that a later
  # build of the current tree links its own instead of taking this one.
  rm -f "$TARGET_DIR/release/libretailml.so" "$TARGET_DIR/release/deps/libretailml.so"
  mv "$RELEASE/package.partial" "$RELEASE/package"
fi

EXTENSION_DIR="$("$PG_CONFIG" --sharedir)/extension"
LIB_DIR="$("$PG_CONFIG" --pkglibdir)"
say "installing retailml $PREVIOUS"
# From here on a failure must not leave the previous release installed.
trap 'say "reinstalling the current build"; bash scripts/install.sh' EXIT
cp "$RELEASE/package$EXTENSION_DIR"/retailml* "$EXTENSION_DIR/"
# A new file rather than one rewritten under backends that have it mapped.
rm -f "$LIB_DIR/retailml.so"
cp "$RELEASE/package$LIB_DIR/retailml.so" "$LIB_DIR/retailml.so"

bash scripts/cluster.sh start
PGOPTIONS="-c client_min_messages=warning" run_psql -q -d postgres \
  -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "DROP DATABASE IF EXISTS $FRESH_DB WITH (FORCE)" \
  -c "DROP DATABASE IF EXISTS $FLAT_DB WITH (FORCE)" -c "DROP ROLE IF EXISTS $ANALYST" -c "CREATE ROLE $ANALYST" \
  -c "CREATE DATABASE $DB" -c "CREATE DATABASE $FLAT_DB"
db_sql() { PGOPTIONS="-c client_min_messages=warning" run_psql -q -d "$DB" "$@"; }

# 600 customers in three groups, a constant column (dropped by the fit, a
# case the conversion handles) and NULLs (imputed); sales of three SKUs.
db_sql <<SQL
CREATE EXTENSION retailml VERSION '$PREVIOUS';
CREATE TABLE customers AS
  SELECT 'c' || i AS customer_id,
         (i % 3) * 40 + i * 37 % 11 AS recency,
         CASE WHEN i % 50 = 0 THEN NULL ELSE (i % 3) * 5 + i * 13 % 7 END AS frequency,
         ((i % 3) * 300 + i * 29 % 97)::numeric AS monetary,
         1 AS stores
    FROM generate_series(1, 600) i;
ALTER TABLE customers ADD PRIMARY KEY (customer_id);
GRANT SELECT ON customers TO $ANALYST;
CREATE TABLE sales AS
  SELECT 'sku-' || s AS sku, date '2024-01-01' + d AS day, 10 * s + d % 7 AS units
    FROM generate_series(1, 3) s, generate_series(0, 59) d;

SELECT count(*) FROM segment_customers('customers', 3, model_name => 'shoppers');
SET ROLE $ANALYST;
SELECT count(*) FROM segment_customers('customers', 2, features => ARRAY['recency', 'monetary'], model_name => 'analyst');
RESET ROLE;
CREATE TABLE assigned_before AS SELECT * FROM assign_segments('shoppers', 'customers');
CREATE TABLE profiles_before AS SELECT * FROM segment_profiles('shoppers');
CREATE TABLE analyst_before AS SELECT * FROM assign_segments('analyst', 'customers');
GRANT SELECT ON analyst_before TO $ANALYST;
CREATE TABLE forecasts_before AS
  SELECT * FROM forecast_sales('sales', time_column => 'day', value_column => 'units', series_column => 'sku', horizon => 7);
SQL
# A model of one segment over constant columns, which the update refuses.
PGOPTIONS="-c client_min_messages=warning" run_psql -q -d "$FLAT_DB" <<SQL
CREATE EXTENSION retailml VERSION '$PREVIOUS';
CREATE TABLE flat AS SELECT 'c' || i AS customer_id, 5 AS visits, 2.5 AS spend FROM generate_series(1, 10) i;
SELECT count(*) FROM segment_customers('flat', 1, model_name => 'flat');
SQL
echo "upgrade test: retailml $PREVIOUS made 3 saved models and forecasts in $DB and $FLAT_DB"

say "installing the current build ($CURRENT) and updating $DB"
bash scripts/install.sh
trap - EXIT

failed=0
check() {
  if [ "$2" = "$3" ]; then echo "upgrade test: $1: ok"; else echo "upgrade test: $1: FAILED (got '$2', expected '$3')"; failed=1; fi
}
# What README's Upgrading warns of: the old definition passes five
# arguments to a library that reads nine. pgrx reads them within the count
# the call has, so this is an error, and the server stays up.
check "segment_customers through the $PREVIOUS definition before the update (error, server up)" \
  "$(db_sql -tA -c "SELECT count(*) FROM segment_customers('customers', 3)" 2>&1 | grep -o 'unboxing .* failed';
     run_psql -d postgres -tA -c "SELECT 'up'")" \
  "unboxing log_features_ argument failed
up"
db_sql -c "ALTER EXTENSION retailml UPDATE"
query() { db_sql -tA "$@"; }
check "the version after ALTER EXTENSION UPDATE" \
  "$(query -c "SELECT extversion FROM pg_extension WHERE extname = 'retailml'")" "$CURRENT"
check "the converted model's transforms" \
  "$(query -c "SELECT encoded_features, dropped, transforms->'transforms'->3, transforms->'transforms'->0->>'kind'
                 FROM retailml.segment_models WHERE name = 'shoppers'")" \
  '{recency,frequency,monetary}|{stores}|{"kind": "constant", "column": "stores"}|numeric'
# Same segment for every customer, same distance (the constant column added
# 0 to every distance before and is gone now).
check "assign_segments of the $PREVIOUS model (customers, differing)" \
  "$(query -c "SELECT count(*), count(*) FILTER (WHERE a.segment IS DISTINCT FROM b.segment
                                                 OR NOT abs(a.distance - b.distance) <= 1e-9 * (1 + b.distance))
                 FROM assigned_before b FULL JOIN assign_segments('shoppers', 'customers') a USING (customer_id)")" \
  "600|0"
# The profiles of the 0.1.0 model's features, less the constant one, which
# 0.2.0 does not profile.
check "segment_profiles of the $PREVIOUS model (rows, differing)" \
  "$(query -c "SELECT count(*), count(*) FILTER (WHERE a IS NULL OR b IS NULL OR a.customers <> b.customers
                                                 OR a.label <> b.label
                                                 OR NOT abs(a.share - b.share) <= 1e-12
                                                 OR NOT abs(a.mean - b.mean) <= 1e-9 * (1 + abs(b.mean))
                                                 OR NOT abs(a.median - b.median) <= 1e-9 * (1 + abs(b.median))
                                                 OR NOT abs(a.overall_mean - b.overall_mean) <= 1e-9 * (1 + abs(b.overall_mean))
                                                 OR NOT abs(a.z - b.z) <= 1e-9)
                 FROM (SELECT * FROM profiles_before WHERE feature <> 'stores') b
                 FULL JOIN segment_profiles('shoppers') a USING (segment, feature)")" \
  "9|0"
check "the other role's model, as that role (models seen, customers scored alike)" \
  "$(query -c "SET ROLE $ANALYST" \
           -c "SELECT string_agg(name, ',') FROM retailml.segment_models" \
           -c "SELECT count(*) FROM analyst_before b JOIN assign_segments('analyst', 'customers') a USING (customer_id, segment)")" \
  "analyst
600"
check "forecast_sales over a table, unchanged" \
  "$(query -c "SELECT count(*), count(*) FILTER (WHERE a IS NULL OR b IS NULL OR NOT abs(a.forecast - b.forecast) <= 1e-9 * (1 + abs(b.forecast)))
                 FROM forecasts_before b
                 FULL JOIN forecast_sales('sales', time_column => 'day', value_column => 'units', series_column => 'sku', horizon => 7) a
                 USING (series_id, period)")" \
  "21|0"
check "segment_customers with the $CURRENT arguments, saved and scored" \
  "$(query -c "SELECT count(*) FROM segment_customers('customers', 3, log_features => ARRAY['monetary'], nulls => 'skip',
                                                     seed => 7, model_name => 'shoppers_$CURRENT')" \
           -c "SELECT count(*) FROM assign_segments('shoppers_$CURRENT', 'customers')")" \
  "588
588"
check "the jobs on the $PREVIOUS model and the forecasts (rows written, runs succeeded)" \
  "$(query -c "CALL retailml.refresh_segments('shoppers', 'customers', 'segments_now')" \
           -c "CALL retailml.refresh_forecasts('sales', 'day', 'units', 'sku', 7, 'sales_forecasts')" \
           -c "SELECT (SELECT count(*) FROM segments_now) || ' ' || (SELECT count(*) FROM sales_forecasts) || ' '
                      || string_agg(status, ',' ORDER BY run_id) FROM retailml.job_runs")" \
  "600 21 succeeded,succeeded"
check "the update of a model without a varying feature (refused, kept at $PREVIOUS; then deleted and updated)" \
  "$(run_psql -d "$FLAT_DB" -c "ALTER EXTENSION retailml UPDATE" 2>&1 | grep -o 'segment models .* cannot score' ;
     run_psql -d "$FLAT_DB" -tA -c "SELECT extversion FROM pg_extension WHERE extname = 'retailml'" \
                                -c "DELETE FROM retailml.segment_models WHERE name = 'flat'" \
                                -c "ALTER EXTENSION retailml UPDATE" \
                                -c "SELECT extversion FROM pg_extension WHERE extname = 'retailml'")" \
  "segment models 'flat' have no feature that varies, which retailml $CURRENT cannot score
$PREVIOUS
DELETE 1
ALTER EXTENSION
$CURRENT"
check "pg_dump keeps the saved models (models in the dump)" \
  "$("$PG_BIN/pg_dump" -h "$PG_SOCKET_DIR" -p "$RETAILML_PGPORT" -U postgres --data-only "$DB" \
      | sed -n '/^COPY retailml.segment_models /,/^\\\.$/p' | grep -cv '^COPY\|^\\\.$')" \
  3

say "drift check: $DB updated from $PREVIOUS against a fresh CREATE EXTENSION in $FRESH_DB"
run_psql -q -d postgres -c "CREATE DATABASE $FRESH_DB"
run_psql -q -d "$FRESH_DB" -c "CREATE EXTENSION retailml"
OUT="$PG_STATE/upgrade"
mkdir -p "$OUT"
run_psql -d "$DB" -tA -f scripts/extension-objects.sql > "$OUT/updated.txt"
run_psql -d "$FRESH_DB" -tA -f scripts/extension-objects.sql > "$OUT/fresh.txt"
if diff -U2 --label "updated from $PREVIOUS (ALTER EXTENSION UPDATE)" --label "fresh CREATE EXTENSION at $CURRENT" \
     "$OUT/updated.txt" "$OUT/fresh.txt" > "$OUT/drift.diff"; then
  echo "upgrade test: the updated extension has the $(grep -c ' | member | ' "$OUT/fresh.txt") objects of a fresh install, defined alike: ok"
else
  echo "upgrade test: drift check FAILED: the updated extension differs from a fresh install"
  echo "(lines are object | aspect | line of its definition; - only after the update, + only in a fresh install;"
  echo " sql/retailml--$PREVIOUS--$CURRENT.sql must create, change or drop what differs)"
  cat "$OUT/drift.diff"
  failed=1
fi

run_psql -q -d postgres -c "DROP DATABASE $DB WITH (FORCE)" -c "DROP DATABASE $FRESH_DB WITH (FORCE)" \
  -c "DROP DATABASE $FLAT_DB WITH (FORCE)" -c "DROP ROLE $ANALYST"
echo "upgrade test: finished in $(( $(date +%s) - started )) s"
exit $failed
