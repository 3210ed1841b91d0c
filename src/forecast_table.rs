//! forecast_sales over a table: one SPI read of (series, period, value) rows
//! with the caller's privileges, then every series forecast by
//! `retailml_forecast::dated` on the thread pool, a chunk at a time.

use std::time::{Duration, Instant};

use pgrx::prelude::*;
use rayon::prelude::*;
use retailml_forecast::batch::{next_chunk, Grouper, Series, FIRST_CHUNK};
use retailml_forecast::dated::{forecast_dated, DatedForecast, Fill, Frequency};
use retailml_forecast::{ForecastError, Options};

use crate::error::{raise, OrRaise, SqlError};
use crate::forecast::{options, stamp_of, timestamptz_of};
use crate::relation::{find_column, for_each_row, quote_ident, relation_name, spi_failed, table_columns, typed_column, Kind, Regclass};
use crate::threads;

/// Rows fetched per SPI session (see [`for_each_row`]).
const FETCH_ROWS: i64 = 50_000;

/// The most rows one chunk makes (about 5 MB), whatever the horizon.
const CHUNK_ROWS: usize = 100_000;

type Row = (Option<String>, TimestampWithTimeZone, f64, f64, f64);

/// Forecasts every series of `source`: rows grouped by `series_column`
/// (the whole table is one series, with a NULL series_id, when it is NULL),
/// each dated by `time_column` and valued by `value_column`, with the dated
/// form's rules. Rows come ordered by series_id (byte order), then period.
#[pg_extern(name = "forecast_sales", stable, parallel_restricted, cost = 100000)]
#[allow(clippy::too_many_arguments)]
fn forecast_sales_table(
    source: Option<Regclass>,
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
    let relation = source.0;

    let started = Instant::now();
    let series = read_series(relation, &time_column, &value_column, series_column.as_deref());
    let mut chunks = Chunks {
        series,
        next: 0,
        size: FIRST_CHUNK,
        options,
        frequency,
        fill,
        labelled: series_column.is_some(),
        fallbacks: 0,
        example: None,
        started,
        read: started.elapsed(),
        forecasting: Duration::ZERO,
    };
    // Rows are made a chunk at a time as the executor asks for them, so
    // memory holds one chunk's forecasts whatever the horizon.
    TableIterator::new(std::iter::from_fn(move || chunks.next_rows()).flatten())
}

/// The forecasts of `series`, one chunk of series at a time.
struct Chunks {
    series: Vec<Series>,
    next: usize,
    size: usize,
    options: Options,
    frequency: Option<Frequency>,
    fill: Fill,
    /// Whether rows carry the series id (there is a series column).
    labelled: bool,
    fallbacks: usize,
    example: Option<String>,
    started: Instant,
    read: Duration,
    forecasting: Duration,
}

impl Chunks {
    fn next_rows(&mut self) -> Option<Vec<Row>> {
        if self.next > self.series.len() {
            return None;
        }
        if self.next == self.series.len() {
            self.next += 1;
            self.finish();
            return None;
        }
        pgrx::check_for_interrupts!();
        let chunk = &self.series[self.next..(self.next + self.size).min(self.series.len())];
        let begun = Instant::now();
        // Pure Rust only on the pool's threads; errors are raised here.
        let (options, frequency, fill) = (&self.options, self.frequency, self.fill);
        let results: Vec<Result<DatedForecast, ForecastError>> = threads::run(|| {
            chunk.par_iter().map(|s| forecast_dated(&s.stamps, &s.values, options, frequency, fill)).collect()
        });
        let took = begun.elapsed();
        let mut rows = Vec::with_capacity(chunk.len() * self.options.horizon);
        for (s, result) in chunk.iter().zip(results) {
            let id = self.labelled.then(|| s.id.clone());
            let dated = result.unwrap_or_else(|e| raise(e.sqlstate(), labelled(&id, &e.to_string()), e.hint()));
            if let Some(notice) = &dated.forecast.notice {
                self.fallbacks += 1;
                self.example.get_or_insert_with(|| labelled(&id, notice));
            }
            let f = &dated.forecast;
            rows.extend(dated.periods.iter().enumerate().map(|(i, &t)| {
                (id.clone(), timestamptz_of(t, dated.frequency), f.point[i], f.lower[i], f.upper[i])
            }));
        }
        self.next += chunk.len();
        self.size = next_chunk(chunk.len(), took).min((CHUNK_ROWS / self.options.horizon).max(1));
        self.forecasting += took;
        Some(rows)
    }

    /// One NOTICE for all fallbacks, and where the time went (DEBUG1).
    fn finish(&mut self) {
        match (self.fallbacks, &self.example) {
            (1, Some(example)) => pgrx::notice!("{example}"),
            (n, Some(example)) => pgrx::notice!("{n} series used a simpler method than asked, e.g. {example}"),
            _ => {}
        }
        pgrx::debug1!(
            "forecast_sales: {} series, read {:.3}s, forecast {:.3}s, all {:.3}s",
            self.series.len(),
            self.read.as_secs_f64(),
            self.forecasting.as_secs_f64(),
            self.started.elapsed().as_secs_f64()
        );
    }
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
    let query = Spi::connect(|client| {
        let columns = table_columns(client, relation);
        typed_column(&columns, time_column, relation, Kind::Temporal, "a date or timestamp");
        typed_column(&columns, value_column, relation, Kind::Numeric, "numeric");
        let id = match series_column {
            Some(name) => format!("{}::text", quote_ident(&find_column(&columns, name, relation).name)),
            None => "''::text".to_string(),
        };
        // The fixed-width columns first: they are read without walking the text.
        let query = format!(
            "SELECT {}::timestamptz, {}::float8, {id} FROM {}",
            quote_ident(time_column),
            quote_ident(value_column),
            relation_name(client, relation)
        );
        query
    });
    pgrx::debug1!("forecast_sales: {query}");

    let mut grouper = Grouper::new();
    let (mut null_ids, mut null_periods) = (0usize, 0usize);
    for_each_row(&query, FETCH_ROWS, |row| {
        let Some(id) = row.get::<String>(3).unwrap_or_else(|e| spi_failed(e)) else {
            null_ids += 1;
            return;
        };
        let Some(period) = row.get::<TimestampWithTimeZone>(1).unwrap_or_else(|e| spi_failed(e)) else {
            null_periods += 1;
            return;
        };
        let value = row.get::<f64>(2).unwrap_or_else(|e| spi_failed(e));
        grouper.push(&id, stamp_of(period), value);
    });
    for (count, column) in [(null_ids, series_column.unwrap_or_default()), (null_periods, time_column)] {
        if count > 0 {
            pgrx::notice!("skipped {count} rows whose \"{column}\" is NULL");
        }
    }
    grouper.finish()
}
