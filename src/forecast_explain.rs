//! backtest_sales and decompose_sales: thin wrappers over
//! `retailml_forecast::{backtest, decompose}`, in the three forms
//! forecast_sales has (undated, timestamptz periods, date periods).

use pgrx::prelude::*;
use retailml_forecast::backtest::{backtest, backtest_dated, Fold};
use retailml_forecast::dated::{Fill, Frequency, Stamp};
use retailml_forecast::decompose::{decompose, decompose_dated, Decomposition};
use retailml_forecast::Options;
use PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE;

use crate::error::{raise, OrRaise};
use crate::forecast::{date_of, options, positive, stamp_of, timestamptz_of};
use crate::threads;

/// (fold, origin, smape, mase, coverage, method).
type FoldRow<P> = (i32, P, Option<f64>, Option<f64>, Option<f64>, String);
/// (period, trend, seasonal, remainder, season).
type PartRow<P> = (P, f64, f64, f64, Option<i32>);

/// Rolling-origin evaluation of forecast_sales on `series`: fold `folds`
/// holds out the last `horizon` values, each earlier fold the `horizon`
/// before; each fold forecasts from the values before its held-out block.
/// `origin` is the 1-based position of the fold's last training value. NULL
/// arguments give no rows, except `season_length => NULL` (detect).
#[pg_extern(immutable, parallel_safe, cost = 10000)]
fn backtest_sales(
    series: Option<Vec<Option<f64>>>,
    horizon: default!(Option<i32>, 14),
    folds: default!(Option<i32>, 4),
    season_length: default!(Option<i32>, "NULL"),
    level: default!(Option<f64>, 0.95),
    method: default!(Option<&str>, "'auto'"),
    allow_negative: default!(Option<bool>, false),
) -> TableIterator<
    'static,
    (
        name!(fold, i32),
        name!(origin, i32),
        name!(smape, Option<f64>),
        name!(mase, Option<f64>),
        name!(coverage, Option<f64>),
        name!(method, String),
    ),
> {
    let (Some(series), Some(options), Some(folds)) =
        (series, options(horizon, season_length, level, method, allow_negative), folds)
    else {
        return TableIterator::empty();
    };
    let folds = positive("folds", folds);
    let folds = threads::interruptible(move |stop| backtest(&series, &options, folds, stop)).or_raise();
    TableIterator::new(fold_rows(folds, |f, _| f.origin as i32 + 1))
}

/// The dated form: periods are regularised once (the forecast_sales rules),
/// then folded; `origin` is the period of the fold's last training value.
/// STABLE: periods are bucketed by the session's TimeZone.
#[pg_extern(name = "backtest_sales", stable, parallel_safe, cost = 10000)]
#[allow(clippy::too_many_arguments)]
fn backtest_sales_timestamptz(
    periods: Option<Vec<Option<TimestampWithTimeZone>>>,
    series: Option<Vec<Option<f64>>>,
    horizon: default!(Option<i32>, 14),
    folds: default!(Option<i32>, 4),
    season_length: default!(Option<i32>, "NULL"),
    level: default!(Option<f64>, 0.95),
    frequency: default!(Option<&str>, "NULL"),
    fill: default!(Option<&str>, "'zero'"),
    method: default!(Option<&str>, "'auto'"),
    allow_negative: default!(Option<bool>, false),
) -> TableIterator<
    'static,
    (
        name!(fold, i32),
        name!(origin, TimestampWithTimeZone),
        name!(smape, Option<f64>),
        name!(mase, Option<f64>),
        name!(coverage, Option<f64>),
        name!(method, String),
    ),
> {
    let stamps = periods.map(|p| p.into_iter().map(|t| t.map(stamp_of)).collect());
    let options = options(horizon, season_length, level, method, allow_negative);
    TableIterator::new(backtest_rows(stamps, series, options, folds, frequency, fill, timestamptz_of))
}

/// The dated form over `date` periods, with `date` origins; IMMUTABLE.
#[pg_extern(name = "backtest_sales", immutable, parallel_safe, cost = 10000)]
#[allow(clippy::too_many_arguments)]
fn backtest_sales_date(
    periods: Option<Vec<Option<Date>>>,
    series: Option<Vec<Option<f64>>>,
    horizon: default!(Option<i32>, 14),
    folds: default!(Option<i32>, 4),
    season_length: default!(Option<i32>, "NULL"),
    level: default!(Option<f64>, 0.95),
    frequency: default!(Option<&str>, "NULL"),
    fill: default!(Option<&str>, "'zero'"),
    method: default!(Option<&str>, "'auto'"),
    allow_negative: default!(Option<bool>, false),
) -> TableIterator<
    'static,
    (
        name!(fold, i32),
        name!(origin, Date),
        name!(smape, Option<f64>),
        name!(mase, Option<f64>),
        name!(coverage, Option<f64>),
        name!(method, String),
    ),
> {
    refuse_hourly_dates(frequency);
    let options = options(horizon, season_length, level, method, allow_negative);
    TableIterator::new(backtest_rows(date_stamps(periods), series, options, folds, frequency, fill, date_of))
}

/// Both dated backtest forms; NULL periods, series, folds, fill or option
/// give no rows.
fn backtest_rows<P>(
    stamps: Option<Vec<Option<Stamp>>>,
    series: Option<Vec<Option<f64>>>,
    options: Option<Options>,
    folds: Option<i32>,
    frequency: Option<&str>,
    fill: Option<&str>,
    period: impl Fn(i64, Frequency) -> P,
) -> Vec<FoldRow<P>> {
    let (Some(stamps), Some(series), Some(options), Some(folds), Some(fill)) = (stamps, series, options, folds, fill)
    else {
        return Vec::new();
    };
    let folds = positive("folds", folds);
    let (frequency, fill) = parse_dating(frequency, fill);
    let b = threads::interruptible(move |stop| backtest_dated(&stamps, &series, &options, folds, frequency, fill, stop))
        .or_raise();
    fold_rows(b.folds, |_, i| period(b.origins[i], b.frequency))
}

/// One row per fold, with a NOTICE for each fold whose method could not fit.
fn fold_rows<P>(folds: Vec<Fold>, origin: impl Fn(&Fold, usize) -> P) -> Vec<FoldRow<P>> {
    folds
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            if let Some(notice) = &f.notice {
                pgrx::notice!("fold {}: {notice}", f.fold);
            }
            (f.fold as i32, origin(&f, i), f.smape, f.mase, f.coverage, f.method)
        })
        .collect()
}

/// Trend, seasonal and remainder of `series`, one row per value from the
/// first non-null one (`step` is its 1-based position); trend + seasonal +
/// remainder is the series with its NULLs filled. `season` is the shortest
/// season taken out, NULL when none (and a NOTICE says why).
#[pg_extern(immutable, parallel_safe, cost = 1000)]
fn decompose_sales(
    series: Option<Vec<Option<f64>>>,
    season_length: default!(Option<i32>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(step, i32),
        name!(trend, f64),
        name!(seasonal, f64),
        name!(remainder, f64),
        name!(season, Option<i32>),
    ),
> {
    let Some(series) = series else {
        return TableIterator::empty();
    };
    let season_length = season(season_length);
    let d = threads::interruptible(move |_| decompose(&series, season_length)).or_raise();
    let steps: Vec<i32> = (0..d.trend.len()).map(|i| (d.start + i) as i32 + 1).collect();
    TableIterator::new(part_rows(d, steps))
}

/// The dated form: one row per period of the regularised series (the
/// forecast_sales rules), seasons tested from the frequency's natural
/// cycles. STABLE: periods are bucketed by the session's TimeZone.
#[pg_extern(name = "decompose_sales", stable, parallel_safe, cost = 1000)]
fn decompose_sales_timestamptz(
    periods: Option<Vec<Option<TimestampWithTimeZone>>>,
    series: Option<Vec<Option<f64>>>,
    season_length: default!(Option<i32>, "NULL"),
    frequency: default!(Option<&str>, "NULL"),
    fill: default!(Option<&str>, "'zero'"),
) -> TableIterator<
    'static,
    (
        name!(period, TimestampWithTimeZone),
        name!(trend, f64),
        name!(seasonal, f64),
        name!(remainder, f64),
        name!(season, Option<i32>),
    ),
> {
    let stamps = periods.map(|p| p.into_iter().map(|t| t.map(stamp_of)).collect());
    TableIterator::new(decompose_rows(stamps, series, season_length, frequency, fill, timestamptz_of))
}

/// The dated form over `date` periods, with `date` periods out; IMMUTABLE.
#[pg_extern(name = "decompose_sales", immutable, parallel_safe, cost = 1000)]
fn decompose_sales_date(
    periods: Option<Vec<Option<Date>>>,
    series: Option<Vec<Option<f64>>>,
    season_length: default!(Option<i32>, "NULL"),
    frequency: default!(Option<&str>, "NULL"),
    fill: default!(Option<&str>, "'zero'"),
) -> TableIterator<
    'static,
    (
        name!(period, Date),
        name!(trend, f64),
        name!(seasonal, f64),
        name!(remainder, f64),
        name!(season, Option<i32>),
    ),
> {
    refuse_hourly_dates(frequency);
    TableIterator::new(decompose_rows(date_stamps(periods), series, season_length, frequency, fill, date_of))
}

/// Both dated decompose forms; NULL periods, series or fill give no rows.
fn decompose_rows<P>(
    stamps: Option<Vec<Option<Stamp>>>,
    series: Option<Vec<Option<f64>>>,
    season_length: Option<i32>,
    frequency: Option<&str>,
    fill: Option<&str>,
    period: impl Fn(i64, Frequency) -> P,
) -> Vec<PartRow<P>> {
    let (Some(stamps), Some(series), Some(fill)) = (stamps, series, fill) else {
        return Vec::new();
    };
    let season_length = season(season_length);
    let (frequency, fill) = parse_dating(frequency, fill);
    let d = threads::interruptible(move |_| decompose_dated(&stamps, &series, season_length, frequency, fill)).or_raise();
    let periods = d.periods.iter().map(|&t| period(t, d.frequency)).collect();
    part_rows(d.decomposition, periods)
}

/// One row per decomposed period, with a NOTICE when no season was used.
fn part_rows<P>(d: Decomposition, periods: Vec<P>) -> Vec<PartRow<P>> {
    if let Some(notice) = &d.notice {
        pgrx::notice!("{notice}");
    }
    let season = d.seasons.first().map(|&m| m as i32);
    periods
        .into_iter()
        .enumerate()
        .map(|(i, p)| (p, d.trend[i], d.seasonal[i], d.remainder[i], season))
        .collect()
}

fn season(season_length: Option<i32>) -> Option<usize> {
    season_length.map(|s| positive("season_length", s))
}

fn parse_dating(frequency: Option<&str>, fill: &str) -> (Option<Frequency>, Fill) {
    let frequency = frequency.map(|f| Frequency::parse(f).or_raise());
    (frequency, Fill::parse(fill).or_raise())
}

fn date_stamps(periods: Option<Vec<Option<Date>>>) -> Option<Vec<Option<Stamp>>> {
    periods.map(|p| p.into_iter().map(|d| d.map(|d| Stamp::from_days(d.into()))).collect())
}

/// As forecast_sales: a date has no hours to step by.
fn refuse_hourly_dates(frequency: Option<&str>) {
    if frequency == Some("hourly") {
        raise(ERRCODE_INVALID_PARAMETER_VALUE, "frequency hourly needs timestamptz periods, not dates", None);
    }
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    #[pg_test]
    fn backtest_has_one_row_per_fold() {
        let rows = Spi::get_one::<i64>(
            "SELECT count(*) FROM backtest_sales(
                 (SELECT array_agg(100 + 10 * sin(2 * pi() * i / 12) + i ORDER BY i)
                    FROM generate_series(1, 60) i), horizon => 6, folds => 3)
              WHERE coverage BETWEEN 0 AND 1 AND smape BETWEEN 0 AND 200",
        );
        assert_eq!(rows, Ok(Some(3)));
    }

    #[pg_test]
    fn decompose_reconstructs_the_series() {
        let off = Spi::get_one::<f64>(
            "SELECT max(abs(trend + seasonal + remainder - (100 + 10 * sin(2 * pi() * step / 12))))
               FROM decompose_sales((SELECT array_agg(100 + 10 * sin(2 * pi() * i / 12) ORDER BY i)
                                       FROM generate_series(1, 60) i))",
        );
        assert!(off.unwrap().unwrap() < 1e-9);
    }
}
