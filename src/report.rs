//! forecast_chart and segment_chart: the report's charts as SVG text, drawn
//! by `retailml_report`. This file only converts arguments and reads the
//! saved segment model.

use pgrx::prelude::*;
use retailml_report::ForecastChart;
use PgSqlErrorCode::*;

use crate::error::{raise, OrRaise};
use crate::forecast::stamp_of;
use crate::segment_models::profiled_model;

fn no_null<T>(values: Vec<Option<T>>, argument: &str) -> Vec<T> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            v.unwrap_or_else(|| {
                raise(ERRCODE_INVALID_PARAMETER_VALUE, format!("{argument} element {} is NULL", i + 1), None)
            })
        })
        .collect()
}

/// Periods on the session time zone's wall clock, which the axis labels show.
fn wall_clock(periods: Vec<Option<TimestampWithTimeZone>>, argument: &str) -> Vec<i64> {
    no_null(periods, argument)
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            if !t.is_finite() {
                raise(ERRCODE_INVALID_PARAMETER_VALUE, format!("{argument} element {} is infinite", i + 1), None);
            }
            stamp_of(t).wall
        })
        .collect()
}

/// A fan chart of one series as an SVG element: the history as a line, the
/// forecast as a line from the last observation, the interval between
/// `lower` and `upper` shaded, dates on the axis. Any NULL array gives NULL;
/// a NULL element, lengths that differ or periods out of order are 22023.
/// STABLE: the dates are labelled in the session's time zone.
#[pg_extern(stable, parallel_safe, cost = 100)]
#[allow(clippy::too_many_arguments)] // the SQL signature
fn forecast_chart(
    history_periods: Option<Vec<Option<TimestampWithTimeZone>>>,
    history: Option<Vec<Option<f64>>>,
    periods: Option<Vec<Option<TimestampWithTimeZone>>>,
    forecast: Option<Vec<Option<f64>>>,
    lower: Option<Vec<Option<f64>>>,
    upper: Option<Vec<Option<f64>>>,
    title: default!(Option<&str>, "NULL"),
) -> Option<String> {
    let history_periods = wall_clock(history_periods?, "history_periods");
    let history = no_null(history?, "history");
    let periods = wall_clock(periods?, "periods");
    let forecast = no_null(forecast?, "forecast");
    let lower = no_null(lower?, "lower");
    let upper = no_null(upper?, "upper");
    let chart = ForecastChart {
        title,
        history_periods: &history_periods,
        history: &history,
        periods: &periods,
        forecast: &forecast,
        lower: &lower,
        upper: &upper,
    };
    Some(retailml_report::forecast_chart(&chart).or_raise())
}

/// The profile of a saved segment model as an SVG element: one panel per
/// segment with its label and size, and a bar per feature for the z-score
/// of the segment's mean (what segment_profiles returns). A NULL name gives
/// NULL; an unknown one is 42704. STABLE and, like segment_profiles, not
/// parallel safe: it reads the model table.
#[pg_extern(stable, cost = 100)]
fn segment_chart(model_name: Option<&str>) -> Option<String> {
    let model_name = model_name?;
    let (features, rows, segments) = profiled_model(model_name);
    let title = format!("segment model {model_name}: {rows} customers");
    Some(retailml_report::segment_chart(&title, &features, &segments).or_raise())
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    const WEEKS: &str = "ARRAY['2017-01-02', '2017-01-09', '2017-01-16']::timestamptz[]";
    const AHEAD: &str = "ARRAY['2017-01-23', '2017-01-30']::timestamptz[]";

    #[pg_test]
    fn forecast_chart_draws_an_svg() {
        let svg = Spi::get_one::<String>(&format!(
            "SELECT forecast_chart({WEEKS}, ARRAY[1, 2, 3]::float8[], {AHEAD}, ARRAY[4, 5]::float8[],
                                   ARRAY[3, 3]::float8[], ARRAY[5, 7]::float8[], title => 'a < b')"
        ))
        .unwrap()
        .unwrap();
        assert!(svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("a &lt; b") && svg.contains("2017-01-"));
    }

    #[pg_test]
    fn forecast_chart_of_null_is_null() {
        let svg = Spi::get_one::<String>(&format!(
            "SELECT forecast_chart({WEEKS}, NULL, {AHEAD}, ARRAY[4, 5]::float8[], ARRAY[3, 3]::float8[], ARRAY[5, 7]::float8[])"
        ));
        assert_eq!(svg, Ok(None));
    }

    #[pg_test(error = "history element 2 is NULL")]
    fn forecast_chart_refuses_null_elements() {
        Spi::run(&format!(
            "SELECT forecast_chart({WEEKS}, ARRAY[1, NULL, 3]::float8[], {AHEAD}, ARRAY[4, 5]::float8[],
                                   ARRAY[3, 3]::float8[], ARRAY[5, 7]::float8[])"
        ))
        .unwrap();
    }

    #[pg_test(error = "periods element 1 is infinite")]
    fn forecast_chart_refuses_infinite_periods() {
        Spi::run(
            "SELECT forecast_chart(ARRAY[]::timestamptz[], ARRAY[]::float8[], ARRAY['infinity']::timestamptz[],
                                   ARRAY[4]::float8[], ARRAY[3]::float8[], ARRAY[5]::float8[])",
        )
        .unwrap();
    }

    #[pg_test]
    fn segment_chart_has_a_panel_per_segment() {
        Spi::run(
            "CREATE TABLE buyers AS
               SELECT i AS id, CASE WHEN i % 2 = 0 THEN 1000 + i ELSE 10 + i END::float8 AS spend
                 FROM generate_series(1, 40) i;
             SELECT count(*) FROM segment_customers('buyers'::regclass, 2, id_column => 'id', model_name => 'm')",
        )
        .unwrap();
        let svg = Spi::get_one::<String>("SELECT segment_chart('m')").unwrap().unwrap();
        assert!(svg.contains("segment 1: ") && svg.contains("segment 2: ") && svg.contains("40 customers"));
        assert_eq!(Spi::get_one::<String>("SELECT segment_chart(NULL)"), Ok(None));
    }
}
