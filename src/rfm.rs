//! customer_rfm: recency, frequency and monetary features per customer from
//! a transactions table. All the arithmetic is one aggregate query run
//! through SPI with the caller's privileges (grants and row-level security
//! hold); Rust only builds the quoted query and passes the rows on.

use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use PgSqlErrorCode::*;

use crate::error::raise;
use crate::relation::{find_column, quote_ident, relation_name, spi_failed, table_columns, typed_column, Column, Kind, Regclass};

type Features = (String, f64, f64, Option<f64>, f64, Option<f64>);

/// Per customer, as of `as_of` (default: the latest time in the table):
/// days since the last purchase, the number of purchase occasions
/// (distinct times), total amount, days since the first purchase and the
/// amount per occasion. Rows after `as_of` are ignored. A NULL table or
/// column name gives no rows.
#[pg_extern(stable, parallel_restricted, cost = 100000)]
fn customer_rfm(
    transactions: Option<Regclass>,
    customer_column: Option<String>,
    time_column: Option<String>,
    amount_column: Option<String>,
    as_of: default!(Option<TimestampWithTimeZone>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(customer_id, String),
        name!(recency_days, f64),
        name!(frequency, f64),
        name!(monetary, Option<f64>),
        name!(tenure_days, f64),
        name!(avg_order_value, Option<f64>),
    ),
> {
    let (Some(transactions), Some(customer), Some(time), Some(amount)) =
        (transactions, customer_column, time_column, amount_column)
    else {
        return TableIterator::empty();
    };
    if as_of.is_some_and(|t| !t.is_finite()) {
        raise(ERRCODE_INVALID_PARAMETER_VALUE, "as_of must be a finite time", None);
    }
    let relation = transactions.0;

    let rows = Spi::connect(|client| {
        let columns = table_columns(client, relation);
        let customer = find_column(&columns, &customer, relation);
        let time = typed_column(&columns, &time, relation, Kind::Temporal, "a date or timestamp");
        let amount = typed_column(&columns, &amount, relation, Kind::Numeric, "numeric");
        let query = rfm_query(client, relation, customer, time, amount);
        pgrx::debug1!("customer_rfm: {query}");
        let table = client.select(&query, None, &[as_of.into()]).unwrap_or_else(|e| spi_failed(e));
        collect(table, &customer.name, &time.name, &amount.name)
    });
    TableIterator::new(rows)
}

/// The one query. Times are compared and subtracted in their own kind:
/// timestamptz as elapsed time, date and timestamp as wall-clock time in
/// the session's TimeZone (so a day across a DST change is still 1 day).
/// The inner level makes one row per purchase occasion (customer, time),
/// the outer one row per customer; the NULL-customer group and the NULL
/// and infinite time counts only feed the NOTICE and the error.
fn rfm_query(client: &SpiClient<'_>, relation: pg_sys::Oid, customer: &Column, time: &Column, amount: &Column) -> String {
    let kind = if base_type(client, relation, &time.name) == pg_sys::TIMESTAMPTZOID {
        "timestamptz"
    } else {
        "timestamp"
    };
    let (c, t, a) = (quote_ident(&customer.name), quote_ident(&time.name), quote_ident(&amount.name));
    let rel = relation_name(client, relation);
    // The default as_of is computed once (the CTE has one row); max over
    // the bare column lets an index on it answer.
    format!(
        "WITH bound AS (
           SELECT coalesce($1::{kind}, (SELECT max({t}) FROM {rel} WHERE isfinite({t}))::{kind}) AS as_of
         )
         SELECT tx.c::text,
                sum(tx.n)::int8,
                coalesce(sum(tx.n) FILTER (WHERE tx.t IS NULL), 0)::int8,
                count(*) FILTER (WHERE NOT isfinite(tx.t))::int8,
                (extract(epoch FROM b.as_of - max(tx.t) FILTER (WHERE isfinite(tx.t))) / 86400)::float8,
                count(tx.t) FILTER (WHERE isfinite(tx.t))::float8,
                (sum(tx.amount) FILTER (WHERE isfinite(tx.t)))::float8,
                (extract(epoch FROM b.as_of - min(tx.t) FILTER (WHERE isfinite(tx.t))) / 86400)::float8,
                (sum(tx.amount) FILTER (WHERE isfinite(tx.t)))::float8
                  / nullif(count(tx.t) FILTER (WHERE isfinite(tx.t)), 0)
           FROM (SELECT {c} AS c, {t}::{kind} AS t, sum({a}) AS amount, count(*) AS n
                   FROM {rel}
                  WHERE {t} IS NULL OR {t}::{kind} <= (SELECT as_of FROM bound)
                  GROUP BY 1, 2) tx
          CROSS JOIN bound b
          GROUP BY tx.c, b.as_of
          ORDER BY tx.c"
    )
}

/// The base type of a column (through any domains).
fn base_type(client: &SpiClient<'_>, relation: pg_sys::Oid, column: &str) -> pg_sys::Oid {
    let typ = client
        .select(
            "SELECT atttypid FROM pg_attribute WHERE attrelid = $1 AND attname = $2",
            Some(1),
            &[relation.into(), column.into()],
        )
        .and_then(|t| t.first().get_one::<pg_sys::Oid>())
        .unwrap_or_else(|e| spi_failed(e))
        .unwrap_or(pg_sys::InvalidOid);
    // SAFETY: a plain syscache lookup of a type the catalog just named.
    unsafe { pg_sys::getBaseType(typ) }
}

/// The customers' rows; NOTICEs for skipped rows, errors for unusable values.
fn collect(table: pgrx::spi::SpiTupleTable<'_>, customer: &str, time: &str, amount: &str) -> Vec<Features> {
    let (mut null_customers, mut null_times) = (0i64, 0i64);
    let mut out = Vec::with_capacity(table.len());
    for row in table {
        let get = |i: usize| row.get::<f64>(i).unwrap_or_else(|e| spi_failed(e));
        let count = |i: usize| row.get::<i64>(i).unwrap_or_else(|e| spi_failed(e)).unwrap_or(0);
        let Some(id) = row.get::<String>(1).unwrap_or_else(|e| spi_failed(e)) else {
            null_customers += count(2);
            continue;
        };
        null_times += count(3);
        if count(4) > 0 {
            raise(
                ERRCODE_DATA_EXCEPTION,
                format!("customer \"{id}\" has a transaction at -infinity in column \"{time}\""),
                Some("filter such rows out with a view"),
            );
        }
        let (Some(recency), Some(frequency), Some(tenure)) = (get(5), get(6), get(8)) else {
            // Only rows with a NULL time: no purchase to measure from.
            continue;
        };
        let monetary = get(7);
        if monetary.is_some_and(|m| !m.is_finite()) {
            raise(
                ERRCODE_DATA_EXCEPTION,
                format!("customer \"{id}\" has NaN or infinite amounts in column \"{amount}\""),
                Some("filter such rows out with a view"),
            );
        }
        out.push((id, recency, frequency, monetary, tenure, get(9)));
    }
    for (count, column) in [(null_customers, customer), (null_times, time)] {
        if count > 0 {
            pgrx::notice!("skipped {count} rows whose \"{column}\" is NULL");
        }
    }
    out
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    fn make_table() {
        Spi::run(
            "CREATE TABLE purchases (shopper int, day date, amount numeric);
             INSERT INTO purchases VALUES
               (1, '2024-01-01', 10), (1, '2024-01-01', 5), (1, '2024-01-11', 20), (2, '2024-01-31', 7);",
        )
        .unwrap();
    }

    #[pg_test]
    fn one_day_is_one_occasion() {
        make_table();
        let row = Spi::get_three::<f64, f64, f64>(
            "SELECT recency_days, frequency, avg_order_value
               FROM customer_rfm('purchases'::regclass, 'shopper', 'day', 'amount') WHERE customer_id = '1'",
        );
        assert_eq!(row, Ok((Some(20.0), Some(2.0), Some(17.5))));
    }

    #[pg_test]
    fn null_column_gives_no_rows() {
        make_table();
        let rows = Spi::get_one::<i64>("SELECT count(*) FROM customer_rfm('purchases'::regclass, 'shopper', NULL, 'amount')");
        assert_eq!(rows, Ok(Some(0)));
    }

    #[pg_test(error = "column \"amount\" is not a date or timestamp (it is numeric)")]
    fn amount_as_time_is_an_error() {
        make_table();
        Spi::run("SELECT * FROM customer_rfm('purchases'::regclass, 'shopper', 'amount', 'amount')").unwrap();
    }
}
