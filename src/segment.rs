//! segment_customers: reads the caller's table through SPI (with the
//! caller's privileges, so grants and row-level security hold) and hands a
//! plain matrix to `retailml_segment`.

use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use PgSqlErrorCode::*;

use crate::error::{raise, OrRaise};
use crate::relation::{find_column, for_each_row, quote_ident, relation_name, spi_failed, table_columns, Column, Regclass};

/// k-means segments of the rows of `customers`. Features default to every
/// numeric column except the key; the key defaults to the primary key.
/// Segments are numbered 1..k by size, largest first; `distance` is to the
/// segment's centroid in standardised (z-score) space. A NULL k chooses k
/// by silhouette; a NULL table gives no rows. With `model_name` the fit is
/// saved in retailml.segment_models, hence VOLATILE.
#[pg_extern(volatile, cost = 100000)]
fn segment_customers(
    customers: Option<Regclass>,
    k: Option<i32>,
    features: default!(Option<Vec<Option<String>>>, "NULL"),
    id_column: default!(Option<String>, "NULL"),
    model_name: default!(Option<String>, "NULL"),
) -> TableIterator<'static, (name!(customer_id, String), name!(segment, i32), name!(distance, f64))> {
    let Some(customers) = customers else {
        return TableIterator::empty();
    };
    let k = k.map(|k| {
        usize::try_from(k).unwrap_or_else(|_| {
            raise(ERRCODE_INVALID_PARAMETER_VALUE, format!("k must be at least 1, got {k}"), None)
        })
    });
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
            Some(names) => names
                .into_iter()
                .map(|name| {
                    let Some(name) = name else {
                        raise(ERRCODE_INVALID_PARAMETER_VALUE, "features must not contain NULL", None)
                    };
                    numeric_column(&columns, &name, relation)
                })
                .fold(Vec::new(), |mut seen: Vec<String>, name| {
                    // Listed twice, a column would silently weigh double.
                    if seen.contains(&name) {
                        raise(ERRCODE_INVALID_PARAMETER_VALUE, format!("feature \"{name}\" is listed twice"), None);
                    }
                    seen.push(name);
                    seen
                }),
            None => columns.iter().filter(|c| c.numeric && c.name != key).map(|c| c.name.clone()).collect(),
        };
        if features.is_empty() {
            raise(
                ERRCODE_DATA_EXCEPTION,
                format!("table {} has no numeric column to segment on", relation_name(client, relation)),
                Some("pass features => ARRAY['column', ...] naming numeric columns"),
            );
        }
        (key, features)
    });
    let (ids, rows) = read_rows(relation, &key, &features);

    let seed = retailml_segment::DEFAULT_SEED;
    let (segmentation, choice) = match k {
        Some(k) => (retailml_segment::segment(&rows, k, seed, &check).or_raise(), None),
        None => {
            let mut choice = retailml_segment::choose_k::choose_k(&rows, seed, &check).or_raise();
            let scores: Vec<String> = choice.scores.iter().map(|(k, s)| format!("k={k} {s:.3}")).collect();
            pgrx::notice!(
                "chose k = {} by mean silhouette on {} rows ({})",
                choice.k,
                choice.sample_rows,
                scores.join(", ")
            );
            let fit = match choice.fit.take() {
                Some(fit) => fit,
                None => retailml_segment::segment(&rows, choice.k, seed, &check).or_raise(),
            };
            (fit, Some(choice))
        }
    };
    if let Some(name) = model_name {
        crate::segment_models::save(&crate::segment_models::Fit {
            name: &name,
            relation,
            key: &key,
            features: &features,
            rows: &rows,
            segmentation: &segmentation,
            choice: choice.as_ref(),
            seed,
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

/// Postgres' interrupt check, for the cores' `check` callbacks.
pub(crate) fn check() {
    pgrx::check_for_interrupts!();
}

/// The key column taken without a primary key or an `id_column`: the one
/// `customer_rfm` returns, since a table created from it has no primary key.
const RFM_KEY: &str = "customer_id";

/// The name of column `name`, which must exist (42703) and be numeric (22023).
pub(crate) fn numeric_column(columns: &[Column], name: &str, relation: pg_sys::Oid) -> String {
    let column = find_column(columns, name, relation);
    if !column.numeric {
        raise(
            ERRCODE_INVALID_PARAMETER_VALUE,
            format!("column \"{}\" is not numeric (it is {})", column.name, column.type_name),
            None,
        );
    }
    column.name.clone()
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

/// The key and feature values of every row, read through a cursor; rows with
/// a NULL key are skipped with a NOTICE, a key seen twice is an error.
pub(crate) fn read_rows(relation: pg_sys::Oid, key: &str, features: &[String]) -> (Vec<String>, Vec<Vec<Option<f64>>>) {
    let query = Spi::connect(|client| {
        let select_list: Vec<String> = features.iter().map(|f| format!("{}::float8", quote_ident(f))).collect();
        format!(
            "SELECT {}::text, {} FROM {}",
            quote_ident(key),
            select_list.join(", "),
            relation_name(client, relation)
        )
    });
    let mut ids = Vec::new();
    let mut rows = Vec::new();
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
        let values = (0..features.len())
            .map(|i| row.get::<f64>(i + 2).unwrap_or_else(|e| spi_failed(e)))
            .collect();
        ids.push(id);
        rows.push(values);
    });
    if skipped > 0 {
        pgrx::notice!("skipped {skipped} rows whose \"{key}\" is NULL");
    }
    (ids, rows)
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

    #[pg_test(error = "column \"name\" is not numeric (it is text)")]
    fn text_feature_column_is_an_error() {
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
