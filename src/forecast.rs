//! forecast_sales: a thin wrapper over `retailml_forecast`.

use pgrx::prelude::*;
use PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE;

use crate::error::{raise, OrRaise};

/// Forecasts `horizon` steps after the last value of `series`, with a
/// prediction interval at `level`. NULL elements are missing values. A NULL
/// series, horizon or level gives no rows, as a STRICT function would;
/// `season_length => NULL` means detect it.
#[pg_extern(immutable, parallel_safe, cost = 1000)]
fn forecast_sales(
    series: Option<Vec<Option<f64>>>,
    horizon: default!(Option<i32>, 14),
    season_length: default!(Option<i32>, "NULL"),
    level: default!(Option<f64>, 0.95),
) -> TableIterator<'static, (name!(step, i32), name!(forecast, f64), name!(lower, f64), name!(upper, f64))> {
    let (Some(series), Some(horizon), Some(level)) = (series, horizon, level) else {
        return TableIterator::empty();
    };
    let horizon = positive("horizon", horizon);
    let season_length = season_length.map(|s| positive("season_length", s));
    let forecast = retailml_forecast::forecast(&series, horizon, season_length, level).or_raise();
    let rows: Vec<(i32, f64, f64, f64)> = (0..forecast.point.len())
        .map(|i| (i as i32 + 1, forecast.point[i], forecast.lower[i], forecast.upper[i]))
        .collect();
    TableIterator::new(rows)
}

fn positive(name: &str, value: i32) -> usize {
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

    #[pg_test(error = "horizon must be at least 1, got 0")]
    fn zero_horizon_is_an_error() {
        Spi::run("SELECT * FROM forecast_sales(ARRAY[1,2,3]::float8[], horizon => 0)").unwrap();
    }
}
