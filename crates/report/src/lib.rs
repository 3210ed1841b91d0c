//! Charts for the report: forecast fan charts and segment profiles as
//! self-contained SVG text, ready to be inlined in an HTML page. Pure Rust
//! over plotters' SVG backend; no Postgres, no fonts, no system libraries.
//!
//! Every piece of caller text (titles, series and feature names) is escaped
//! by plotters, and control characters are replaced first, so no name can
//! break the SVG or the page around it.

mod forecast;
mod segments;
mod text;

pub use forecast::{forecast_chart, ForecastChart};
pub use segments::{segment_chart, SegmentProfile};

/// At most this many points in one forecast chart (history and forecast
/// together): a few megabytes of SVG, more than any screen can show.
pub const MAX_POINTS: usize = 100_000;
/// At most this many bars (segments × features) in one segment chart.
pub const MAX_BARS: usize = 10_000;
/// The largest magnitude a chart draws. plotters scales its axes by the
/// range's width, and near f64::MAX that width overflows and its tick
/// search never ends; no sales figure comes near this.
pub const MAX_MAGNITUDE: f64 = 1e300;

#[derive(Debug, Clone, PartialEq)]
pub enum ChartError {
    /// Arguments that cannot make a chart: mismatched lengths, nothing to draw...
    InvalidParameter(String),
    /// More points than [`MAX_POINTS`] or bars than [`MAX_BARS`].
    TooLarge(String),
    /// plotters refused to draw; a bug.
    Internal(String),
}

impl std::fmt::Display for ChartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChartError::InvalidParameter(m) | ChartError::TooLarge(m) | ChartError::Internal(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ChartError {}

/// A plotters drawing error, which only a bug in the layout can cause.
fn drawing_failed(e: impl std::fmt::Debug) -> ChartError {
    ChartError::Internal(format!("drawing the chart failed: {e:?}"))
}

#[cfg(test)]
pub(crate) mod svg_check {
    /// Checks that `svg` is one well-formed SVG element: tags nest, every
    /// `&` starts an entity and no text or attribute holds a raw `<`.
    /// Returns the number of elements of each name.
    pub fn elements(svg: &str) -> std::collections::BTreeMap<String, usize> {
        let svg = svg.trim();
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"), "not one <svg> element");
        let mut counts = std::collections::BTreeMap::new();
        let mut open: Vec<String> = Vec::new();
        let mut rest = svg;
        while let Some(start) = rest.find('<') {
            check_text(&rest[..start]);
            let end = rest[start..].find('>').expect("unclosed tag") + start;
            let tag = &rest[start + 1..end];
            assert!(!tag.contains('<'), "raw < inside tag {tag:?}");
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(open.pop().as_deref(), Some(name), "mismatched </{name}>");
            } else {
                let name = tag.split_whitespace().next().expect("empty tag").trim_end_matches('/').to_string();
                check_text(tag);
                *counts.entry(name.clone()).or_insert(0) += 1;
                if !tag.ends_with('/') {
                    open.push(name);
                }
            }
            rest = &rest[end + 1..];
        }
        assert!(open.is_empty(), "unclosed elements {open:?}");
        counts
    }

    fn check_text(text: &str) {
        for (i, _) in text.match_indices('&') {
            let entity = &text[i..text[i..].find(';').map_or(text.len(), |e| i + e + 1)];
            assert!(
                ["&lt;", "&gt;", "&amp;", "&quot;", "&apos;"].contains(&entity),
                "bare & in {text:?}"
            );
        }
    }
}
