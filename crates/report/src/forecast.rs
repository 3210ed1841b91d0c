//! The forecast fan chart: history as a line, the forecast as a second line
//! that starts at the last observed point, and the prediction interval as a
//! shaded band around it.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::text::{clean, compact_number, date_ticks, with_title, DAY};
use crate::{drawing_failed, ChartError, MAX_MAGNITUDE, MAX_POINTS};

const WIDTH: u32 = 760;
const HEIGHT: u32 = 340;
const HISTORY_COLOUR: RGBColor = RGBColor(0x1f, 0x3a, 0x5f);
const FORECAST_COLOUR: RGBColor = RGBColor(0xd9, 0x5f, 0x0e);

/// One series to draw. Periods are wall-clock microseconds since 2000-01-01
/// (as `retailml_forecast::dated::Stamp::wall`), the time the labels show,
/// increasing.
pub struct ForecastChart<'a> {
    pub title: Option<&'a str>,
    pub history_periods: &'a [i64],
    pub history: &'a [f64],
    pub periods: &'a [i64],
    pub forecast: &'a [f64],
    pub lower: &'a [f64],
    pub upper: &'a [f64],
}

impl ForecastChart<'_> {
    fn validate(&self) -> Result<(), ChartError> {
        let invalid = |m: String| Err(ChartError::InvalidParameter(m));
        if self.history.len() != self.history_periods.len() {
            return invalid(format!(
                "history and history_periods differ in length ({} and {})",
                self.history.len(),
                self.history_periods.len()
            ));
        }
        for (name, values) in [("forecast", self.forecast), ("lower", self.lower), ("upper", self.upper)] {
            if values.len() != self.periods.len() {
                return invalid(format!(
                    "{name} and periods differ in length ({} and {})",
                    values.len(),
                    self.periods.len()
                ));
            }
        }
        let points = self.history.len() + self.periods.len();
        if points == 0 {
            return invalid("nothing to draw: history and periods are both empty".into());
        }
        if points > MAX_POINTS {
            return Err(ChartError::TooLarge(format!(
                "a chart takes at most {MAX_POINTS} points, this one has {points}"
            )));
        }
        for (name, values) in [
            ("history", self.history),
            ("forecast", self.forecast),
            ("lower", self.lower),
            ("upper", self.upper),
        ] {
            if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                return invalid(format!("{name} element {} is not a finite number", i + 1));
            }
            if let Some(i) = values.iter().position(|v| v.abs() > MAX_MAGNITUDE) {
                return invalid(format!(
                    "{name} element {} is {:e}: a chart draws values within ±{MAX_MAGNITUDE:e}",
                    i + 1,
                    values[i]
                ));
            }
        }
        for (name, periods) in [("history_periods", self.history_periods), ("periods", self.periods)] {
            if let Some(i) = periods.windows(2).position(|w| w[1] <= w[0]) {
                return invalid(format!("{name} must increase, but element {} is not after element {}", i + 2, i + 1));
            }
        }
        if let (Some(last), Some(first)) = (self.history_periods.last(), self.periods.first()) {
            if first <= last {
                return invalid("the first forecast period must come after the last history period".into());
            }
        }
        if let Some(i) = self.lower.iter().zip(self.upper).position(|(l, u)| l > u) {
            return invalid(format!("lower is above upper at forecast period {}", i + 1));
        }
        Ok(())
    }
}

/// `lo..hi` widened by `pad` of its width on each side, or by `flat` when
/// it is a single value, so plotters always has an axis to scale.
fn padded(lo: f64, hi: f64, pad: f64, flat: f64) -> std::ops::Range<f64> {
    if hi > lo {
        let margin = (hi - lo) * pad;
        lo - margin..hi + margin
    } else {
        lo - flat..hi + flat
    }
}

fn min_max<'a>(values: impl Iterator<Item = &'a f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)))
}

/// The fan chart of one series as an `<svg>` element.
pub fn forecast_chart(chart: &ForecastChart<'_>) -> Result<String, ChartError> {
    chart.validate()?;
    let title = chart.title.map(|t| clean(t, 100)).unwrap_or_default();
    let days = |periods: &[i64]| periods.iter().map(|&t| t as f64 / DAY as f64).collect::<Vec<_>>();
    let (history_days, forecast_days) = (days(chart.history_periods), days(chart.periods));
    let (x_lo, x_hi) = min_max(history_days.iter().chain(&forecast_days));
    let (y_lo, y_hi) = min_max(chart.history.iter().chain(chart.forecast).chain(chart.lower).chain(chart.upper));
    let x_range = padded(x_lo, x_hi, 0.02, 1.0);
    let ticks = date_ticks(x_range.start, x_range.end);
    let y_range = padded(y_lo, y_hi, 0.05, y_lo.abs().max(1.0) * 0.1);
    let (y_bottom, y_top) = (y_range.start, y_range.end);
    let history: Vec<(f64, f64)> = history_days.iter().copied().zip(chart.history.iter().copied()).collect();
    // The forecast line leaves from the last observation, so the two join.
    let forecast: Vec<(f64, f64)> = history
        .last()
        .copied()
        .into_iter()
        .chain(forecast_days.iter().copied().zip(chart.forecast.iter().copied()))
        .collect();
    // The band fans out from the last observation too: upper edge forward,
    // lower edge back.
    let band: Vec<(f64, f64)> = if chart.periods.is_empty() {
        Vec::new()
    } else {
        let start = history.last().copied();
        start
            .into_iter()
            .chain(forecast_days.iter().copied().zip(chart.upper.iter().copied()))
            .chain(forecast_days.iter().copied().zip(chart.lower.iter().copied()).rev())
            .chain(start)
            .collect()
    };

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(drawing_failed)?;
        let mut builder = ChartBuilder::on(&root);
        builder.margin(12).x_label_area_size(32).y_label_area_size(56);
        if !title.is_empty() {
            builder.caption(&title, ("sans-serif", 17));
        }
        let mut plot = builder.build_cartesian_2d(x_range, y_range).map_err(drawing_failed)?;
        let y_label = |v: &f64| compact_number(*v);
        plot.configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(6)
            .y_label_formatter(&y_label)
            .bold_line_style(BLACK.mix(0.08))
            .light_line_style(TRANSPARENT)
            .label_style(("sans-serif", 12))
            .draw()
            .map_err(drawing_failed)?;
        // Dates on round calendar points, which plotters' numeric ticks are not.
        plot.draw_series(ticks.iter().map(|&(x, _)| PathElement::new([(x, y_bottom), (x, y_top)], BLACK.mix(0.08))))
            .map_err(drawing_failed)?;
        let tick_style = TextStyle::from(("sans-serif", 12).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
        for (x, label) in &ticks {
            let (px, py) = plot.backend_coord(&(*x, y_bottom));
            root.draw(&PathElement::new([(px, py), (px, py + 5)], BLACK)).map_err(drawing_failed)?;
            root.draw(&Text::new(label.as_str(), (px, py + 8), &tick_style)).map_err(drawing_failed)?;
        }
        if !band.is_empty() {
            plot.draw_series(std::iter::once(Polygon::new(band, FORECAST_COLOUR.mix(0.22).filled())))
                .map_err(drawing_failed)?
                .label("prediction interval")
                .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 22, y + 6)], FORECAST_COLOUR.mix(0.22).filled()));
        }
        if !history.is_empty() {
            plot.draw_series(LineSeries::new(history, HISTORY_COLOUR.stroke_width(2)))
                .map_err(drawing_failed)?
                .label("history")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 22, y)], HISTORY_COLOUR.stroke_width(2)));
        }
        if !chart.periods.is_empty() {
            plot.draw_series(LineSeries::new(forecast, FORECAST_COLOUR.stroke_width(2)))
                .map_err(drawing_failed)?
                .label("forecast")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 22, y)], FORECAST_COLOUR.stroke_width(2)));
        }
        plot.configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .label_font(("sans-serif", 12))
            .draw()
            .map_err(drawing_failed)?;
        root.present().map_err(drawing_failed)?;
    }
    let name = if title.is_empty() { "forecast".to_string() } else { format!("forecast: {title}") };
    Ok(with_title(svg, &name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::svg_check::elements;

    /// Mondays from 2017-01-02, as wall-clock microseconds.
    const WEEKS: [i64; 5] = [6_211 * DAY, 6_218 * DAY, 6_225 * DAY, 6_232 * DAY, 6_239 * DAY];
    const SALES: [f64; 5] = [120.0, 135.0, 128.0, 150.0, 149.0];
    const AHEAD: [i64; 3] = [6_246 * DAY, 6_253 * DAY, 6_260 * DAY];
    const FORECAST: [f64; 3] = [152.0, 155.0, 158.0];
    const LOWER: [f64; 3] = [140.0, 138.0, 135.0];
    const UPPER: [f64; 3] = [164.0, 172.0, 181.0];

    fn series<'a>(title: Option<&'a str>) -> ForecastChart<'a> {
        ForecastChart {
            title,
            history_periods: &WEEKS,
            history: &SALES,
            periods: &AHEAD,
            forecast: &FORECAST,
            lower: &LOWER,
            upper: &UPPER,
        }
    }

    #[test]
    fn draws_the_band_both_lines_dates_and_legend() {
        let svg = forecast_chart(&series(Some("Dairy"))).unwrap();
        let counts = elements(&svg);
        assert_eq!(counts["svg"], 1);
        assert_eq!(counts["polygon"], 1, "one interval band");
        // each line and its legend key
        assert_eq!(svg.matches("stroke=\"#1F3A5F\" stroke-width=\"2\"").count(), 2);
        assert_eq!(svg.matches("stroke=\"#D95F0E\" stroke-width=\"2\"").count(), 2);
        assert!(svg.contains("<title>forecast: Dairy</title>"));
        assert!(svg.contains(">\nDairy\n</text>"), "the caption");
        for text in [">\n2017-01-09\n<", ">\n2017-01-30\n<", "prediction interval", "history", "forecast"] {
            assert!(svg.contains(text), "missing {text}");
        }
    }

    #[test]
    fn titles_with_markup_stay_text() {
        let svg = forecast_chart(&series(Some("<script>alert('x')</script> & \"Co\"\u{7}"))).unwrap();
        elements(&svg);
        assert!(!svg.contains("<script"));
        assert!(svg.contains("&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt; &amp; &quot;Co&quot; "));
    }

    #[test]
    fn history_only_forecast_only_and_single_points_draw() {
        let only_history = ForecastChart { periods: &[], forecast: &[], lower: &[], upper: &[], ..series(None) };
        assert_eq!(elements(&forecast_chart(&only_history).unwrap()).get("polygon"), None);
        let only_forecast = ForecastChart { history_periods: &[], history: &[], ..series(None) };
        assert_eq!(elements(&forecast_chart(&only_forecast).unwrap())["polygon"], 1);
        let one = ForecastChart {
            history_periods: &[6_211 * DAY],
            history: &[5.0],
            periods: &[],
            forecast: &[],
            lower: &[],
            upper: &[],
            title: None,
        };
        assert!(forecast_chart(&one).unwrap().contains("<title>forecast</title>"));
    }

    #[test]
    fn short_spans_label_hours() {
        let hours = [6_211 * DAY, 6_211 * DAY + DAY / 4, 6_211 * DAY + DAY / 2];
        let chart = ForecastChart {
            history_periods: &hours,
            history: &[1.0, 2.0, 3.0],
            periods: &[],
            forecast: &[],
            lower: &[],
            upper: &[],
            title: None,
        };
        assert!(forecast_chart(&chart).unwrap().contains(":00"));
    }

    #[test]
    fn unusable_arguments_are_errors() {
        let invalid = |chart: ForecastChart<'_>| match forecast_chart(&chart) {
            Err(ChartError::InvalidParameter(m)) => m,
            other => panic!("expected an invalid parameter, got {other:?}"),
        };
        assert_eq!(
            invalid(ForecastChart { history: &SALES[..4], ..series(None) }),
            "history and history_periods differ in length (4 and 5)"
        );
        assert_eq!(invalid(ForecastChart { upper: &UPPER[..2], ..series(None) }), "upper and periods differ in length (2 and 3)");
        assert_eq!(
            invalid(ForecastChart {
                history_periods: &[],
                history: &[],
                periods: &[],
                forecast: &[],
                lower: &[],
                upper: &[],
                title: None
            }),
            "nothing to draw: history and periods are both empty"
        );
        assert_eq!(
            invalid(ForecastChart { history: &[1.0, f64::NAN, 3.0, 4.0, 5.0], ..series(None) }),
            "history element 2 is not a finite number"
        );
        assert_eq!(
            invalid(ForecastChart { upper: &[164.0, 172.0, f64::MAX], ..series(None) }),
            "upper element 3 is 1.7976931348623157e308: a chart draws values within ±1e300"
        );
        assert_eq!(
            invalid(ForecastChart { periods: &[AHEAD[0], AHEAD[0], AHEAD[2]], ..series(None) }),
            "periods must increase, but element 2 is not after element 1"
        );
        assert_eq!(
            invalid(ForecastChart { periods: &[WEEKS[4], AHEAD[1], AHEAD[2]], ..series(None) }),
            "the first forecast period must come after the last history period"
        );
        assert_eq!(
            invalid(ForecastChart { lower: &[140.0, 180.0, 135.0], ..series(None) }),
            "lower is above upper at forecast period 2"
        );
    }

    /// These ranges overflowed plotters' axis width, which then searched for
    /// ticks forever on the backend, deaf to cancel.
    #[test]
    fn ranges_near_the_largest_float_draw_or_are_refused_at_once() {
        let draw = |history: [f64; 2]| {
            let chart = ForecastChart { history: &history, periods: &[], forecast: &[], lower: &[], upper: &[], ..series(None) };
            forecast_chart(&ForecastChart { history_periods: &WEEKS[..2], ..chart })
        };
        for history in [[1e308, -1e308], [1.7e308, 0.0], [9e307, -9e307]] {
            assert!(matches!(draw(history), Err(ChartError::InvalidParameter(_))), "{history:?}");
        }
        for history in [[MAX_MAGNITUDE, -MAX_MAGNITUDE], [MAX_MAGNITUDE, MAX_MAGNITUDE]] {
            assert!(draw(history).unwrap().contains("<svg"), "{history:?}");
        }
    }

    #[test]
    fn too_many_points_is_refused_before_drawing() {
        let hours: Vec<i64> = (0..MAX_POINTS as i64 + 1).map(|h| h * DAY / 24).collect();
        let values = vec![1.0; hours.len()];
        let chart = ForecastChart {
            history_periods: &hours,
            history: &values,
            periods: &[],
            forecast: &[],
            lower: &[],
            upper: &[],
            title: None,
        };
        assert!(matches!(forecast_chart(&chart), Err(ChartError::TooLarge(_))));
    }
}
