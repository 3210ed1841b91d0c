//! segment_customers: reads the caller's table through SPI (with the
//! caller's privileges, so grants and row-level security hold) and hands
//! its columns to `retailml_segment`, which encodes and clusters them.

use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use retailml_segment::features::{self, Encoder, Nulls, Table, Transform, Values};
use PgSqlErrorCode::*;

use crate::error::{raise, OrRaise};
use crate::relation::{find_column, for_each_row, quote_ident, relation_name, spi_failed, table_columns, Column, Kind, Regclass};

/// k-means segments of the rows of `customers`.
///
/// Features default to every numeric, boolean and numeric-array column
/// except the key; text columns are one-hot encoded when named. The key
/// defaults to the primary key. Segments are numbered 1..k by size, largest
/// first; `distance` is to the segment's centroid in the model space (see
/// `retailml_segment::features`). A NULL k chooses k by silhouette; a NULL
/// table gives no rows. With `model_name` the fit is saved in
/// retailml.segment_models, hence VOLATILE.
#[pg_extern(volatile, cost = 100000)]
#[allow(clippy::too_many_arguments)]
fn segment_customers(
    customers: Option<Regclass>,
    k: Option<i32>,
    features: default!(Option<Vec<Option<String>>>, "NULL"),
    id_column: default!(Option<String>, "NULL"),
    model_name: default!(Option<String>, "NULL"),
    log_features: default!(Option<Vec<Option<String>>>, "NULL"),
    nulls: default!(Option<String>, "'impute'"),
    components: default!(Option<i32>, 3),
    seed: default!(Option<i64>, 20260101),
) -> TableIterator<'static, (name!(customer_id, String), name!(segment, i32), name!(distance, f64))> {
    let Some(customers) = customers else {
        return TableIterator::empty();
    };
    // Before the table is read: a k out of range is the caller's mistake
    // whatever the data.
    let k = k.map(|k| match usize::try_from(k) {
        Ok(k) if k <= retailml_segment::MAX_K => k,
        Ok(_) => raise(
            ERRCODE_INVALID_PARAMETER_VALUE,
            format!("k must be at most {}, got {k}", retailml_segment::MAX_K),
            None,
        ),
        Err(_) => raise(ERRCODE_INVALID_PARAMETER_VALUE, format!("k must be at least 1, got {k}"), None),
    });
    // Checked before the fit, not after minutes of it.
    if model_name.as_deref().is_some_and(|name| name.trim().is_empty()) {
        raise(ERRCODE_INVALID_PARAMETER_VALUE, "model_name must not be empty or blank", None);
    }
    let options = features::Options {
        log1p: names(log_features, "log_features"),
        nulls: Nulls::parse(nulls.as_deref().unwrap_or("impute")).or_raise(),
        components: components.map_or(features::DEFAULT_COMPONENTS, |c| {
            usize::try_from(c).unwrap_or_else(|_| {
                let message = format!("components must be between 1 and {}, got {c}", features::MAX_COMPONENTS);
                raise(ERRCODE_INVALID_PARAMETER_VALUE, message, None)
            })
        }),
        seed: seed.map_or(retailml_segment::DEFAULT_SEED, |s| s as u64),
    };
    let relation = customers.0;

    let (key, features) = Spi::connect(|client| {
        let columns = table_columns(client, relation);
        let key = match id_column {
            Some(name) => find_column(&columns, &name, relation).name.clone(),
            None => primary_key(client, relation, &columns),
        };
        let features = match features {
            Some(names) if names.is_empty() => {
                raise(ERRCODE_INVALID_PARAMETER_VALUE, "features must name at least one column", None)
            }
            Some(list) => names(Some(list), "features")
                .iter()
                .map(|name| feature_column(&columns, name, relation))
                .fold(Vec::new(), |mut seen: Vec<(String, Kind)>, column| {
                    // Listed twice, a column would silently weigh double.
                    if seen.iter().any(|(name, _)| *name == column.0) {
                        raise(ERRCODE_INVALID_PARAMETER_VALUE, format!("feature \"{}\" is listed twice", column.0), None);
                    }
                    seen.push(column);
                    seen
                }),
            None => default_features(&columns, &key),
        };
        if features.is_empty() {
            raise(
                ERRCODE_DATA_EXCEPTION,
                format!("table {} has no numeric or boolean column to segment on", relation_name(client, relation)),
                Some("pass features => ARRAY['column', ...] naming numeric, boolean, text or numeric array columns"),
            );
        }
        (key, features)
    });
    let table = read_table(relation, &key, &features);
    let (encoder, encoded) = Encoder::fit(&table, &options, &check).or_raise();
    drop(table.columns);
    announce_encoding(&encoder);
    announce_skipped(table.ids.len() - encoded.rows());
    let ids: Vec<String> = {
        let mut ids = table.ids;
        if encoded.rows() < ids.len() {
            ids = encoded.kept.iter().map(|&i| std::mem::take(&mut ids[i])).collect();
        }
        ids
    };

    let (x, d) = (&encoded.x, encoded.cols);
    let (segmentation, choice) = match k {
        Some(k) => (retailml_segment::segment(x, d, k, options.seed, &check).or_raise(), None),
        None => {
            let mut choice = retailml_segment::choose_k::choose_k(x, d, options.seed, &check).or_raise();
            let scores: Vec<String> = choice.scores.iter().map(|(k, s)| format!("k={k} {s:.3}")).collect();
            pgrx::notice!(
                "chose k = {} by mean silhouette on {} rows ({})",
                choice.k,
                choice.sample_rows,
                scores.join(", ")
            );
            let fit = match choice.fit.take() {
                Some(fit) => fit,
                None => retailml_segment::segment(x, d, choice.k, options.seed, &check).or_raise(),
            };
            (fit, Some(choice))
        }
    };
    if let Some(name) = model_name {
        crate::segment_models::save(&crate::segment_models::Fit {
            name: &name,
            relation,
            key: &key,
            encoder: &encoder,
            encoded: &encoded,
            segmentation: &segmentation,
            choice: choice.as_ref(),
            seed: options.seed,
        });
    }
    let out: Vec<(String, i32, f64)> = ids
        .into_iter()
        .zip(segmentation.segment)
        .zip(segmentation.distance)
        .map(|((id, segment), distance)| (id, segment as i32, distance))
        .collect();
    TableIterator::new(out)
}

/// The non-NULL entries of a text[] argument; a NULL entry is 22023.
fn names(list: Option<Vec<Option<String>>>, argument: &str) -> Vec<String> {
    list.unwrap_or_default()
        .into_iter()
        .map(|name| {
            name.unwrap_or_else(|| {
                raise(ERRCODE_INVALID_PARAMETER_VALUE, format!("{argument} must not contain NULL"), None)
            })
        })
        .collect()
}

/// NOTICEs for what the fit's encoding did that the caller did not ask for
/// in so many words: dropped constant columns, the variance the principal
/// components keep.
fn announce_encoding(encoder: &Encoder) {
    let dropped = encoder.dropped();
    if !dropped.is_empty() {
        pgrx::notice!("dropped columns with a single value, which cannot tell customers apart: {}", dropped.join(", "));
    }
    for t in &encoder.transforms {
        if let Transform::Pca { column, components, explained, .. } = t {
            let kept = match components.len() {
                1 => "1 principal component keeps".to_string(),
                n => format!("{n} principal components keep"),
            };
            pgrx::notice!("\"{column}\": {kept} {:.0}% of its variance", explained * 100.0);
        }
    }
}

pub(crate) fn announce_skipped(skipped: usize) {
    if skipped > 0 {
        pgrx::notice!("skipped {skipped} customers with a NULL feature (nulls => 'skip')");
    }
}

/// Postgres' interrupt check, for the cores' `check` callbacks.
pub(crate) fn check() {
    pgrx::check_for_interrupts!();
}

/// The key column taken without a primary key or an `id_column`: the one
/// `customer_rfm` returns, since a table created from it has no primary key.
const RFM_KEY: &str = "customer_id";

/// Column `name` as a feature: it must exist (42703) and be numeric,
/// boolean, text or a numeric array (22023).
pub(crate) fn feature_column(columns: &[Column], name: &str, relation: pg_sys::Oid) -> (String, Kind) {
    let column = find_column(columns, name, relation);
    match column.kind {
        Kind::Numeric | Kind::Boolean | Kind::Text | Kind::NumericArray => (column.name.clone(), column.kind),
        Kind::Temporal | Kind::Other => raise(
            ERRCODE_INVALID_PARAMETER_VALUE,
            format!("column \"{}\" cannot be a feature (it is {})", column.name, column.type_name),
            Some("features can be numeric, boolean, text or numeric array columns; for dates, segment on days since"),
        ),
    }
}

/// Every numeric, boolean and numeric-array column but the key; text
/// columns left out are named in a NOTICE, since names and ids are text too.
fn default_features(columns: &[Column], key: &str) -> Vec<(String, Kind)> {
    let candidates = columns.iter().filter(|c| c.name != key);
    let text: Vec<&str> = candidates.clone().filter(|c| c.kind == Kind::Text).map(|c| c.name.as_str()).collect();
    if !text.is_empty() {
        pgrx::notice!("left out text columns {} (name them in features to one-hot encode them)", text.join(", "));
    }
    candidates
        .filter(|c| matches!(c.kind, Kind::Numeric | Kind::Boolean | Kind::NumericArray))
        .map(|c| (c.name.clone(), c.kind))
        .collect()
}

/// The customer key: the single-column primary key or, for a table without
/// one, a column named as customer_rfm names its key.
pub(crate) fn primary_key(client: &SpiClient<'_>, relation: pg_sys::Oid, columns: &[Column]) -> String {
    let keys: Vec<String> = client
        .select(
            "SELECT a.attname::text
               FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
              WHERE i.indrelid = $1 AND i.indisprimary",
            None,
            &[relation.into()],
        )
        .unwrap_or_else(|e| spi_failed(e))
        .filter_map(|row| row.get::<String>(1).ok().flatten())
        .collect();
    match keys.as_slice() {
        [key] => key.clone(),
        [] if columns.iter().any(|c| c.name == RFM_KEY) => RFM_KEY.to_string(),
        [] => raise(
            ERRCODE_INVALID_PARAMETER_VALUE,
            format!("table {} has no primary key to identify customers", relation_name(client, relation)),
            Some("pass id_column => 'your_customer_column'"),
        ),
        _ => raise(
            ERRCODE_INVALID_PARAMETER_VALUE,
            format!("the primary key of {} has several columns", relation_name(client, relation)),
            Some("pass id_column => 'your_customer_column'"),
        ),
    }
}

/// Rows fetched per SPI session (see [`for_each_row`]).
const FETCH_ROWS: i64 = 20_000;

/// The key and feature columns of every row, read through a cursor; rows
/// with a NULL key are skipped with a NOTICE, a key seen twice is an error.
/// Arrays are read in single precision (embeddings are real[]), a NULL
/// element as NaN.
pub(crate) fn read_table(relation: pg_sys::Oid, key: &str, features: &[(String, Kind)]) -> Table {
    let query = Spi::connect(|client| {
        let select_list: Vec<String> = features
            .iter()
            .map(|(name, kind)| {
                let cast = match kind {
                    Kind::Boolean => "bool",
                    Kind::Text => "text",
                    Kind::NumericArray => "real[]",
                    _ => "float8",
                };
                format!("{}::{cast}", quote_ident(name))
            })
            .collect();
        format!(
            "SELECT {}::text, {} FROM {}",
            quote_ident(key),
            select_list.join(", "),
            relation_name(client, relation)
        )
    });
    let mut columns: Vec<features::Column> = features
        .iter()
        .map(|(name, kind)| features::Column {
            name: name.clone(),
            values: match kind {
                Kind::Boolean => Values::Boolean(Vec::new()),
                Kind::Text => Values::Text(Vec::new()),
                Kind::NumericArray => Values::Array(Vec::new()),
                _ => Values::Number(Vec::new()),
            },
        })
        .collect();
    let mut ids = Vec::new();
    let mut skipped = 0usize;
    let mut seen = std::collections::HashSet::new();
    for_each_row(&query, FETCH_ROWS, |row| {
        let Some(id) = row.get::<String>(1).unwrap_or_else(|e| spi_failed(e)) else {
            skipped += 1;
            return;
        };
        if !seen.insert(id.clone()) {
            raise(
                ERRCODE_DATA_EXCEPTION,
                format!("customer \"{id}\" appears more than once in column \"{key}\""),
                Some("segment a table or view with one row per customer"),
            );
        }
        for (i, column) in columns.iter_mut().enumerate() {
            let at = i + 2;
            match &mut column.values {
                Values::Number(v) => v.push(row.get::<f64>(at).unwrap_or_else(|e| spi_failed(e))),
                Values::Boolean(v) => v.push(row.get::<bool>(at).unwrap_or_else(|e| spi_failed(e))),
                Values::Text(v) => v.push(row.get::<String>(at).unwrap_or_else(|e| spi_failed(e))),
                Values::Array(v) => {
                    let array = row.get::<Vec<Option<f32>>>(at).unwrap_or_else(|e| spi_failed(e));
                    v.push(array.map(|a| a.into_iter().map(|x| x.unwrap_or(f32::NAN)).collect()));
                }
            }
        }
        ids.push(id);
    });
    if skipped > 0 {
        pgrx::notice!("skipped {skipped} rows whose \"{key}\" is NULL");
    }
    Table { ids, columns }
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    fn make_table() {
        Spi::run(
            "CREATE TABLE shoppers (id int PRIMARY KEY, spend float8, visits int, name text);
             INSERT INTO shoppers
             SELECT i, CASE WHEN i % 2 = 0 THEN 1000 + i ELSE 10 + i END, i % 2 * 20 + 1, 'x' || i
               FROM generate_series(1, 40) i;",
        )
        .unwrap();
    }

    #[pg_test]
    fn two_obvious_groups_become_two_segments() {
        make_table();
        let segments = Spi::get_one::<i64>(
            "SELECT count(DISTINCT segment) FROM segment_customers('shoppers'::regclass, 2)",
        );
        assert_eq!(segments, Ok(Some(2)));
        let mixed = Spi::get_one::<i64>(
            "SELECT count(*) FROM (SELECT segment FROM segment_customers('shoppers'::regclass, 2) s
                                     JOIN shoppers c ON c.id::text = s.customer_id
                                    GROUP BY segment HAVING count(DISTINCT c.id % 2) > 1) m",
        );
        assert_eq!(mixed, Ok(Some(0)));
    }

    #[pg_test(error = "column \"nope\" of shoppers does not exist")]
    fn unknown_feature_column_is_an_error() {
        make_table();
        Spi::run("SELECT * FROM segment_customers('shoppers'::regclass, 2, features => ARRAY['nope'])").unwrap();
    }

    #[pg_test(error = "column \"name\" has 40 distinct values; at most 20 can be one-hot encoded")]
    fn text_feature_with_many_values_is_an_error() {
        make_table();
        Spi::run("SELECT * FROM segment_customers('shoppers'::regclass, 2, features => ARRAY['name'])").unwrap();
    }

    #[pg_test]
    fn null_k_chooses_k() {
        make_table();
        let segments = Spi::get_one::<i64>(
            "SELECT count(DISTINCT segment) FROM segment_customers('shoppers'::regclass, NULL)",
        );
        assert_eq!(segments, Ok(Some(2)));
    }
}
