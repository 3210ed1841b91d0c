//! forecast_sales over a table: one SPI read of (series, period, value) rows
//! with the caller's privileges, then every series forecast by
//! `retailml_forecast::dated` on the thread pool, a chunk at a time.

use std::time::Instant;

use pgrx::prelude::*;
use pgrx::PgRelation;
use rayon::prelude::*;
use retailml_forecast::batch::{next_chunk, Grouper, Series, FIRST_CHUNK};
use retailml_forecast::dated::{forecast_dated, DatedForecast, Fill, Frequency};
use retailml_forecast::ForecastError;
use PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH;

use crate::error::{raise, OrRaise, SqlError};
use crate::forecast::{options, stamp_of, timestamptz_of};
use crate::segment::{find_column, Column, quote_ident, relation_name, spi_failed, table_columns};
use crate::threads;

/// Rows fetched from the cursor per SPI session: each session's rows are
/// freed when it ends, so the read holds one batch of tuples at a time.
const FETCH_ROWS: i64 = 50_000;

type Row = (Option<String>, TimestampWithTimeZone, f64, f64, f64);

/// Forecasts every series of `source`: rows grouped by `series_column`
/// (the whole table is one series, with a NULL series_id, when it is NULL),
/// each dated by `time_column` and valued by `value_column`, with the dated
/// form's rules. Rows come ordered by series_id (byte order), then period.
#[pg_extern(name = "forecast_sales", stable, parallel_restricted, cost = 100000)]
#[allow(clippy::too_many_arguments)]
fn forecast_sales_table(
    source: Option<PgRelation>,
    time_column: Option<String>,
    value_column: Option<String>,
    series_column: default!(Option<String>, "NULL"),
    horizon: default!(Option<i32>, 14),
    season_length: default!(Option<i32>, "NULL"),
    level: default!(Option<f64>, 0.95),
    frequency: default!(Option<&str>, "NULL"),
    fill: default!(Option<&str>, "'zero'"),
    method: default!(Option<&str>, "'auto'"),
    allow_negative: default!(Option<bool>, false),
) -> TableIterator<
    'static,
    (
        name!(series_id, Option<String>),
        name!(period, TimestampWithTimeZone),
        name!(forecast, f64),
        name!(lower, f64),
        name!(upper, f64),
    ),
> {
    let (Some(source), Some(time_column), Some(value_column), Some(options), Some(fill)) = (
        source,
        time_column,
        value_column,
        options(horizon, season_length, level, method, allow_negative),
        fill,
    ) else {
        return TableIterator::empty();
    };
    let frequency = frequency.map(|f| Frequency::parse(f).or_raise());
    let fill = Fill::parse(fill).or_raise();
    let relation = source.oid();
    drop(source);

    let started = Instant::now();
    let series = read_series(relation, &time_column, &value_column, series_column.as_deref());
    let read = started.elapsed();

    let mut rows: Vec<Row> = Vec::with_capacity(series.len() * options.horizon);
    let mut notices = (0usize, None);
    let mut forecast_time = std::time::Duration::ZERO;
    let mut size = FIRST_CHUNK;
    let mut rest = series.as_slice();
    while !rest.is_empty() {
        let (chunk, after) = rest.split_at(size.min(rest.len()));
        rest = after;
        let begun = Instant::now();
        // Pure Rust only on the pool's threads; errors are raised here.
        let results: Vec<Result<DatedForecast, ForecastError>> = threads::run(|| {
            chunk
                .par_iter()
                .map(|s| forecast_dated(&s.stamps, &s.values, &options, frequency, fill))
                .collect()
        });
        let took = begun.elapsed();
        forecast_time += took;
        for (s, result) in chunk.iter().zip(results) {
            let id = series_column.is_some().then(|| s.id.clone());
            let dated = result.unwrap_or_else(|e| raise(e.sqlstate(), labelled(&id, &e.to_string()), e.hint()));
            if let Some(notice) = &dated.forecast.notice {
                notices.0 += 1;
                notices.1.get_or_insert_with(|| labelled(&id, notice));
            }
            let f = &dated.forecast;
            rows.extend(dated.periods.iter().enumerate().map(|(i, &t)| {
                (id.clone(), timestamptz_of(t, dated.frequency), f.point[i], f.lower[i], f.upper[i])
            }));
        }
        pgrx::check_for_interrupts!();
        size = next_chunk(chunk.len(), took);
    }
    match notices {
        (1, Some(example)) => pgrx::notice!("{example}"),
        (n, Some(example)) => pgrx::notice!("{n} series used a simpler method than asked, e.g. {example}"),
        _ => {}
    }
    pgrx::debug1!(
        "forecast_sales: {} series, read {:.3}s, forecast {:.3}s, output {:.3}s",
        series.len(),
        read.as_secs_f64(),
        forecast_time.as_secs_f64(),
        (started.elapsed() - read - forecast_time).as_secs_f64()
    );
    TableIterator::new(rows)
}

/// `series "id": message`, or the message alone for a whole-table series.
fn labelled(id: &Option<String>, message: &str) -> String {
    match id {
        Some(id) => format!("series \"{id}\": {message}"),
        None => message.to_string(),
    }
}

/// The table's rows as series, read by one query through a cursor; rows
/// whose series id or period is NULL are skipped with a NOTICE.
fn read_series(
    relation: pg_sys::Oid,
    time_column: &str,
    value_column: &str,
    series_column: Option<&str>,
) -> Vec<Series> {
    let (query, cursor) = Spi::connect(|client| {
        let columns = table_columns(&client, relation);
        let require = |name: &str, is: fn(&Column) -> bool, what: &str| {
            let column = find_column(&columns, name, relation);
            if !is(column) {
                let message = format!("column \"{name}\" is not {what} (it is {})", column.type_name);
                raise(ERRCODE_DATATYPE_MISMATCH, message, None);
            }
        };
        require(time_column, |c| c.temporal, "a date or timestamp");
        require(value_column, |c| c.numeric, "numeric");
        let id = match series_column {
            Some(name) => format!("{}::text", quote_ident(&find_column(&columns, name, relation).name)),
            None => "''::text".to_string(),
        };
        let query = format!(
            "SELECT {id}, {}::timestamptz, {}::float8 FROM {}",
            quote_ident(time_column),
            quote_ident(value_column),
            relation_name(&client, relation)
        );
        let cursor = client.open_cursor(query.as_str(), &[]).detach_into_name();
        (query, cursor)
    });
    pgrx::debug1!("forecast_sales: {query}");

    let mut grouper = Grouper::new();
    let (mut null_ids, mut null_periods) = (0usize, 0usize);
    loop {
        let fetched = Spi::connect(|client| {
            let mut cursor = client.find_cursor(&cursor).unwrap_or_else(|e| spi_failed(e));
            let table = cursor.fetch(FETCH_ROWS).unwrap_or_else(|e| spi_failed(e));
            let fetched = table.len();
            for row in table {
                let Some(id) = row.get::<String>(1).unwrap_or_else(|e| spi_failed(e)) else {
                    null_ids += 1;
                    continue;
                };
                let Some(period) = row.get::<TimestampWithTimeZone>(2).unwrap_or_else(|e| spi_failed(e)) else {
                    null_periods += 1;
                    continue;
                };
                let value = row.get::<f64>(3).unwrap_or_else(|e| spi_failed(e));
                grouper.push(&id, stamp_of(period), value);
            }
            if fetched > 0 {
                // Keep the cursor open for the next session; dropping it closes it.
                cursor.detach_into_name();
            }
            fetched
        });
        pgrx::check_for_interrupts!();
        if fetched == 0 {
            break;
        }
    }
    for (count, column) in [(null_ids, series_column.unwrap_or_default()), (null_periods, time_column)] {
        if count > 0 {
            pgrx::notice!("skipped {count} rows whose \"{column}\" is NULL");
        }
    }
    grouper.finish()
}
