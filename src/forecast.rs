//! forecast_sales: a thin wrapper over `retailml_forecast`.

use pgrx::prelude::*;
use retailml_forecast::dated::{days_of, forecast_dated, Fill, Frequency, Stamp};
use retailml_forecast::{Forecast, Method, Options};
use PgSqlErrorCode::{ERRCODE_DATETIME_FIELD_OVERFLOW, ERRCODE_INVALID_PARAMETER_VALUE};

use crate::error::{raise, OrRaise};
use crate::threads;

/// Forecasts `horizon` steps after the last value of `series`, with a
/// prediction interval at `level`. NULL elements are missing values. A NULL
/// series, horizon, level, method or allow_negative gives no rows, as a
/// STRICT function would; `season_length => NULL` means detect it.
#[pg_extern(immutable, parallel_safe, cost = 1000)]
fn forecast_sales(
    series: Option<Vec<Option<f64>>>,
    horizon: default!(Option<i32>, 14),
    season_length: default!(Option<i32>, "NULL"),
    level: default!(Option<f64>, 0.95),
    method: default!(Option<&str>, "'auto'"),
    allow_negative: default!(Option<bool>, false),
) -> TableIterator<'static, (name!(step, i32), name!(forecast, f64), name!(lower, f64), name!(upper, f64))> {
    let (Some(series), Some(options)) = (series, options(horizon, season_length, level, method, allow_negative))
    else {
        return TableIterator::empty();
    };
    let forecast = report(threads::interruptible(move |_| retailml_forecast::forecast(&series, &options)).or_raise());
    let rows: Vec<(i32, f64, f64, f64)> = (0..forecast.point.len())
        .map(|i| (i as i32 + 1, forecast.point[i], forecast.lower[i], forecast.upper[i]))
        .collect();
    TableIterator::new(rows)
}

/// The dated form: `periods[i]` is the period of `series[i]`. Periods are
/// bucketed by the session's TimeZone (a day is a local day), hence STABLE;
/// hourly periods step in absolute time. See the README for the rules.
#[pg_extern(name = "forecast_sales", stable, parallel_safe, cost = 1000)]
#[allow(clippy::too_many_arguments)] // the SQL signature
fn forecast_sales_timestamptz(
    periods: Option<Vec<Option<TimestampWithTimeZone>>>,
    series: Option<Vec<Option<f64>>>,
    horizon: default!(Option<i32>, 14),
    season_length: default!(Option<i32>, "NULL"),
    level: default!(Option<f64>, 0.95),
    frequency: default!(Option<&str>, "NULL"),
    fill: default!(Option<&str>, "'zero'"),
    method: default!(Option<&str>, "'auto'"),
    allow_negative: default!(Option<bool>, false),
) -> TableIterator<
    'static,
    (name!(period, TimestampWithTimeZone), name!(forecast, f64), name!(lower, f64), name!(upper, f64)),
> {
    let stamps = periods.map(|p| p.into_iter().map(|t| t.map(stamp_of)).collect());
    let options = options(horizon, season_length, level, method, allow_negative);
    TableIterator::new(dated(stamps, series, options, frequency, fill, timestamptz_of))
}

/// A timestamptz as the dated core takes it: its wall clock in the session's
/// zone and its UTC instant.
pub(crate) fn stamp_of(t: TimestampWithTimeZone) -> Stamp {
    let utc = t.into_inner();
    // Timestamp::from converts to the session's zone.
    let wall = if t.is_finite() { Timestamp::from(t).into_inner() } else { utc };
    Stamp { wall, utc }
}

/// A forecast period of the dated core back as a timestamptz.
pub(crate) fn timestamptz_of(micros: i64, frequency: Frequency) -> TimestampWithTimeZone {
    let stamp = if frequency.is_utc() {
        TimestampWithTimeZone::try_from(micros).ok()
    } else {
        Timestamp::try_from(micros).ok().map(TimestampWithTimeZone::from)
    };
    stamp.unwrap_or_else(|| raise(ERRCODE_DATETIME_FIELD_OVERFLOW, "timestamp out of range", None))
}

/// The dated form over `date` periods, with `date` periods out; no time zone
/// is involved, so IMMUTABLE.
#[pg_extern(name = "forecast_sales", immutable, parallel_safe, cost = 1000)]
#[allow(clippy::too_many_arguments)] // the SQL signature
fn forecast_sales_date(
    periods: Option<Vec<Option<Date>>>,
    series: Option<Vec<Option<f64>>>,
    horizon: default!(Option<i32>, 14),
    season_length: default!(Option<i32>, "NULL"),
    level: default!(Option<f64>, 0.95),
    frequency: default!(Option<&str>, "NULL"),
    fill: default!(Option<&str>, "'zero'"),
    method: default!(Option<&str>, "'auto'"),
    allow_negative: default!(Option<bool>, false),
) -> TableIterator<'static, (name!(period, Date), name!(forecast, f64), name!(lower, f64), name!(upper, f64))> {
    if frequency == Some("hourly") {
        raise(ERRCODE_INVALID_PARAMETER_VALUE, "frequency hourly needs timestamptz periods, not dates", None);
    }
    let stamps = periods.map(|p| p.into_iter().map(|d| d.map(|d| Stamp::from_days(d.into()))).collect());
    let options = options(horizon, season_length, level, method, allow_negative);
    TableIterator::new(dated(stamps, series, options, frequency, fill, date_of))
}

/// A period of the dated core back as a date.
pub(crate) fn date_of(micros: i64, _: Frequency) -> Date {
    Date::try_from(days_of(micros)).unwrap_or_else(|_| raise(ERRCODE_DATETIME_FIELD_OVERFLOW, "date out of range", None))
}

/// Both dated forms: NULL periods, series, fill or any NULL option give no
/// rows, like the undated form; `frequency => NULL` infers it.
fn dated<P>(
    stamps: Option<Vec<Option<Stamp>>>,
    series: Option<Vec<Option<f64>>>,
    options: Option<Options>,
    frequency: Option<&str>,
    fill: Option<&str>,
    period: impl Fn(i64, Frequency) -> P,
) -> Vec<(P, f64, f64, f64)> {
    let (Some(stamps), Some(series), Some(options), Some(fill)) = (stamps, series, options, fill) else {
        return Vec::new();
    };
    let frequency = frequency.map(|f| Frequency::parse(f).or_raise());
    let fill = Fill::parse(fill).or_raise();
    let dated = threads::interruptible(move |_| forecast_dated(&stamps, &series, &options, frequency, fill)).or_raise();
    let f = report(dated.forecast);
    dated
        .periods
        .iter()
        .enumerate()
        .map(|(i, &t)| (period(t, dated.frequency), f.point[i], f.lower[i], f.upper[i]))
        .collect()
}

/// The options of every form; `None` when one of them is NULL.
pub(crate) fn options(
    horizon: Option<i32>,
    season_length: Option<i32>,
    level: Option<f64>,
    method: Option<&str>,
    allow_negative: Option<bool>,
) -> Option<Options> {
    let horizon = positive("horizon", horizon?);
    Some(Options {
        horizon,
        season_length: season_length.map(|s| positive("season_length", s)),
        level: level?,
        method: Method::parse(method?).or_raise(),
        allow_negative: allow_negative?,
    })
}

/// Say which method forecast (at DEBUG1) and why a simpler one stood in.
pub(crate) fn report(forecast: Forecast) -> Forecast {
    pgrx::debug1!("forecast_sales: {}", forecast.method);
    if let Some(notice) = &forecast.notice {
        pgrx::notice!("{notice}");
    }
    forecast
}

pub(crate) fn positive(name: &str, value: i32) -> usize {
    match usize::try_from(value) {
        Ok(v) if v > 0 => v,
        _ => raise(ERRCODE_INVALID_PARAMETER_VALUE, format!("{name} must be at least 1, got {value}"), None),
    }
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    #[pg_test]
    fn forecasts_a_seasonal_series_with_ordered_intervals() {
        let rows = Spi::get_one::<i64>(
            "SELECT count(*) FROM forecast_sales(
                 (SELECT array_agg(100 + 10 * sin(2 * pi() * i / 12) + i ORDER BY i)
                    FROM generate_series(1, 60) i), horizon => 12)
              WHERE lower <= forecast AND forecast <= upper",
        );
        assert_eq!(rows, Ok(Some(12)));
    }

    #[pg_test]
    fn null_series_gives_no_rows() {
        let rows = Spi::get_one::<i64>("SELECT count(*) FROM forecast_sales(NULL::float8[])");
        assert_eq!(rows, Ok(Some(0)));
    }

    #[pg_test]
    fn dated_periods_continue_in_the_session_time_zone() {
        Spi::run("SET LOCAL TimeZone = 'Asia/Kolkata'").unwrap();
        let first = Spi::get_one::<bool>(
            "SELECT min(period) = '2024-01-04 00:00+05:30' FROM forecast_sales(
                 ARRAY['2024-01-01', '2024-01-02', '2024-01-03']::timestamptz[], ARRAY[1, 2, 3]::float8[], horizon => 2)",
        );
        assert_eq!(first, Ok(Some(true)));
    }

    #[pg_test]
    fn dated_date_form_returns_dates() {
        let last = Spi::get_one::<String>(
            "SELECT max(period)::text FROM forecast_sales(
                 ARRAY['2024-01-31', '2024-02-29', '2024-03-31']::date[], ARRAY[1, 2, 3]::float8[], horizon => 2)",
        );
        assert_eq!(last, Ok(Some("2024-05-31".to_string())));
    }

    #[pg_test(error = "periods are irregular: 2024-03-15 is not on the monthly grid that starts at 2024-01-01")]
    fn dated_irregular_periods_are_an_error() {
        Spi::run(
            "SELECT * FROM forecast_sales(ARRAY['2024-01-01', '2024-02-01', '2024-03-15']::date[], ARRAY[1, 2, 3]::float8[])",
        )
        .unwrap();
    }

    #[pg_test(error = "horizon must be at least 1, got 0")]
    fn zero_horizon_is_an_error() {
        Spi::run("SELECT * FROM forecast_sales(ARRAY[1,2,3]::float8[], horizon => 0)").unwrap();
    }
}
