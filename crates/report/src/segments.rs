//! The segment profile chart: one panel per segment, headed by its number,
//! label and size, with a horizontal bar per feature for the z-score of the
//! segment's mean (how many overall standard deviations it sits from the
//! overall mean). All panels share one scale, so bars compare across them.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::text::{clean, with_title};
use crate::{drawing_failed, ChartError, MAX_BARS, MAX_MAGNITUDE};

const PANEL_WIDTH: u32 = 480;
const HEADER_HEIGHT: u32 = 36;
const BAR_HEIGHT: u32 = 22;
const ABOVE_COLOUR: RGBColor = RGBColor(0x1f, 0x6f, 0xb4);
const BELOW_COLOUR: RGBColor = RGBColor(0xe0, 0x7b, 0x39);

/// One segment's profile: `z` holds one z-score per feature, in feature order.
pub struct SegmentProfile {
    pub segment: i32,
    pub customers: i64,
    pub share: f64,
    pub label: String,
    pub z: Vec<f64>,
}

fn validate(features: &[String], segments: &[SegmentProfile]) -> Result<(), ChartError> {
    let invalid = |m: String| Err(ChartError::InvalidParameter(m));
    if features.is_empty() || segments.is_empty() {
        return invalid("nothing to draw: the model has no features or no segments".into());
    }
    let bars = features.len().saturating_mul(segments.len());
    if bars > MAX_BARS {
        return Err(ChartError::TooLarge(format!("a segment chart takes at most {MAX_BARS} bars, this one has {bars}")));
    }
    for s in segments {
        if s.z.len() != features.len() {
            return invalid(format!(
                "segment {} has {} z-scores for {} features",
                s.segment,
                s.z.len(),
                features.len()
            ));
        }
        if let Some(j) = s.z.iter().position(|z| !z.is_finite()) {
            return invalid(format!("segment {}: the z-score of {} is not a finite number", s.segment, features[j]));
        }
        if let Some(j) = s.z.iter().position(|z| z.abs() > MAX_MAGNITUDE) {
            return invalid(format!(
                "segment {}: the z-score of {} is {:e}: a chart draws values within ±{MAX_MAGNITUDE:e}",
                s.segment, features[j], s.z[j]
            ));
        }
    }
    Ok(())
}

/// The profile of every segment of a model, titled `title`, as one `<svg>`.
pub fn segment_chart(title: &str, features: &[String], segments: &[SegmentProfile]) -> Result<String, ChartError> {
    validate(features, segments)?;
    let title = clean(title, 100);
    let names: Vec<String> = features.iter().map(|f| clean(f, 32)).collect();
    let d = names.len();
    let columns = segments.len().min(2);
    let rows = segments.len().div_ceil(columns);
    let panel_height = HEADER_HEIGHT + 44 + BAR_HEIGHT * d as u32;
    let width = PANEL_WIDTH * columns as u32;
    let height = 40 + panel_height * rows as u32;
    // A symmetric scale of at least ±1, rounded up to a half.
    let largest = segments.iter().flat_map(|s| &s.z).fold(1.0f64, |m, z| m.max(z.abs()));
    let reach = (largest * 2.0).ceil() / 2.0 + 0.25;
    let widest_name = names.iter().map(|n| n.chars().count()).max().unwrap_or(0) as u32;

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(drawing_failed)?;
        let body = root.titled(&title, ("sans-serif", 18)).map_err(drawing_failed)?;
        for (segment, panel) in segments.iter().zip(body.split_evenly((rows, columns))) {
            let caption = clean(&format!("segment {}: {}", segment.segment, segment.label), 80);
            let size = format!(
                "{} customers ({:.1}%) · z-score of the segment mean",
                segment.customers,
                segment.share * 100.0
            );
            let mut plot = ChartBuilder::on(&panel)
                .caption(&caption, ("sans-serif", 14))
                .margin(10)
                .x_label_area_size(40)
                .y_label_area_size((12 + 7 * widest_name).min(230))
                // Band j of height 1 for feature d - 1 - j: the first on top.
                .build_cartesian_2d(-reach..reach, 0.0..d as f64)
                .map_err(drawing_failed)?;
            plot.configure_mesh()
                .disable_y_mesh()
                .y_labels(0)
                .x_labels(7)
                .x_label_formatter(&|z| if z.abs() < 1e-9 { "0".to_string() } else { format!("{z:+.1}") })
                .x_desc(size)
                .bold_line_style(BLACK.mix(0.08))
                .light_line_style(TRANSPARENT)
                .label_style(("sans-serif", 12))
                .axis_desc_style(("sans-serif", 12))
                .draw()
                .map_err(drawing_failed)?;
            // Feature names drawn here rather than as plotters' ticks, which
            // fall on round numbers, not on band centres.
            let name_style = TextStyle::from(("sans-serif", 12).into_font()).pos(Pos::new(HPos::Right, VPos::Center));
            for (j, name) in names.iter().enumerate() {
                let (px, py) = plot.backend_coord(&(-reach, (d - j) as f64 - 0.5));
                root.draw(&Text::new(name.as_str(), (px - 6, py), &name_style)).map_err(drawing_failed)?;
            }
            plot.draw_series(segment.z.iter().enumerate().map(|(j, &z)| {
                let band = (d - 1 - j) as f64;
                let colour = if z >= 0.0 { ABOVE_COLOUR } else { BELOW_COLOUR };
                Rectangle::new([(0.0, band + 0.18), (z, band + 0.82)], colour.filled())
            }))
            .map_err(drawing_failed)?;
            plot.draw_series(std::iter::once(PathElement::new(
                [(0.0, 0.0), (0.0, d as f64)],
                BLACK.mix(0.6),
            )))
            .map_err(drawing_failed)?;
        }
        root.present().map_err(drawing_failed)?;
    }
    Ok(with_title(svg, &title))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::svg_check::elements;

    fn features(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    fn segment(segment: i32, z: &[f64]) -> SegmentProfile {
        SegmentProfile { segment, customers: 100 * segment as i64, share: 0.25, label: "typical".into(), z: z.to_vec() }
    }

    /// Filled bars of either colour, which no other element of the chart uses.
    fn bars(svg: &str) -> usize {
        ["#1F6FB4", "#E07B39"].iter().map(|c| svg.matches(&format!("fill=\"{c}\"")).count()).sum()
    }

    #[test]
    fn one_panel_and_one_bar_per_segment_and_feature() {
        let f = features(&["recency_days", "frequency", "monetary"]);
        let s: Vec<SegmentProfile> =
            (1..=5).map(|i| segment(i, &[0.5 * i as f64, -0.3, 2.5 - i as f64])).collect();
        let svg = segment_chart("households", &f, &s).unwrap();
        elements(&svg);
        assert_eq!(bars(&svg), 15);
        for text in ["segment 1: typical", "segment 5: typical", "500 customers (25.0%)", "recency_days", "monetary"] {
            assert!(svg.contains(text), "missing {text}");
        }
        assert!(svg.contains("<title>households</title>"));
    }

    #[test]
    fn a_single_feature_and_segment_draw() {
        let svg = segment_chart("one", &features(&["spend"]), &[segment(1, &[0.0])]).unwrap();
        elements(&svg);
        assert_eq!(bars(&svg), 1);
        assert!(svg.contains(">\nspend\n<"));
    }

    #[test]
    fn names_with_markup_stay_text() {
        let f = features(&["a<b", "x & \"y\""]);
        let mut s = segment(1, &[1.0, -1.0]);
        s.label = "high a<b".into();
        let svg = segment_chart("m</svg><script>", &f, &[s]).unwrap();
        elements(&svg);
        assert!(!svg.contains("<script") && !svg.contains("a<b"));
        assert!(svg.contains("a&lt;b") && svg.contains("x &amp; &quot;y&quot;"));
        assert_eq!(bars(&svg), 2);
    }

    #[test]
    fn unusable_profiles_are_errors() {
        let f = features(&["a", "b"]);
        assert_eq!(
            segment_chart("m", &f, &[segment(2, &[1.0])]),
            Err(ChartError::InvalidParameter("segment 2 has 1 z-scores for 2 features".into()))
        );
        assert_eq!(
            segment_chart("m", &f, &[segment(1, &[1.0, f64::INFINITY])]),
            Err(ChartError::InvalidParameter("segment 1: the z-score of b is not a finite number".into()))
        );
        assert_eq!(
            segment_chart("m", &f, &[segment(1, &[-1e308, 1.0])]),
            Err(ChartError::InvalidParameter("segment 1: the z-score of a is -1e308: a chart draws values within ±1e300".into()))
        );
        assert!(matches!(segment_chart("m", &f, &[]), Err(ChartError::InvalidParameter(_))));
        let many = features(&["f"; MAX_BARS + 1]);
        assert!(matches!(segment_chart("m", &many, &[segment(1, &[])]), Err(ChartError::TooLarge(_))));
    }
}
