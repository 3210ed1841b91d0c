//! Segment profiles an analyst can read: per segment and feature the mean
//! and median in original units, the z-score of the mean against the whole
//! table, and a short label from the most distinctive features.

use crate::features::FeatureKind;
use crate::Segmentation;

/// A feature enters a label when its segment mean is at least this many
/// standard deviations from the overall mean.
pub const LABEL_THRESHOLD: f64 = 0.5;
/// At most this many features in a label.
pub const LABEL_FEATURES: usize = 3;

/// What a segment looks like, per feature, in the units an analyst reads.
/// Matrices are k × features, segment 1 first.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub means: Vec<Vec<f64>>,
    /// Exact medians.
    pub medians: Vec<Vec<f64>>,
    /// Per feature, the mean over every row.
    pub overall_means: Vec<f64>,
    /// (segment mean − overall mean) / overall standard deviation, in the
    /// model space k-means saw (so after log1p); 0 for a feature without
    /// spread.
    pub z: Vec<Vec<f64>>,
}

/// The profile of `fit`, a segmentation of the rows of `x` (row-major, `d`
/// wide, in the model space); `display[j]` maps feature j's model value to
/// the units an analyst reads.
/// One selection per segment and feature, O(n) each; `check` runs once per
/// feature.
pub fn profile<F: Fn(f64) -> f64 + ?Sized>(
    x: &[f64],
    d: usize,
    fit: &Segmentation,
    display: &[Box<F>],
    check: &dyn Fn(),
) -> Profile {
    let k = fit.sizes.len();
    let n = fit.segment.len();
    // Rows grouped by segment: segment c's values live at starts[c]..starts[c + 1].
    let mut starts = vec![0; k + 1];
    for (c, &size) in fit.sizes.iter().enumerate() {
        starts[c + 1] = starts[c] + size;
    }
    let mut out = Profile {
        means: vec![vec![0.0; d]; k],
        medians: vec![vec![0.0; d]; k],
        overall_means: vec![0.0; d],
        z: vec![vec![0.0; d]; k],
    };
    let mut values = vec![0.0; n];
    for (j, show) in display.iter().enumerate().take(d) {
        check();
        let mut next = starts.clone();
        for (row, &s) in x.chunks_exact(d).zip(&fit.segment) {
            let c = s as usize - 1;
            values[next[c]] = row[j];
            next[c] += 1;
        }
        let model_mean = mean(&values);
        let sd = (values.iter().map(|v| (v - model_mean).powi(2)).sum::<f64>() / n as f64).sqrt();
        out.overall_means[j] = mean_of(values.iter().map(|&v| show(v)), n);
        for c in 0..k {
            let segment = &mut values[starts[c]..starts[c + 1]];
            let segment_mean = mean(segment);
            out.z[c][j] = if sd > 0.0 { (segment_mean - model_mean) / sd } else { 0.0 };
            // In displayed units before the median: for an even count the
            // middle two are averaged in the units an analyst reads.
            segment.iter_mut().for_each(|v| *v = show(*v));
            out.means[c][j] = mean(segment);
            out.medians[c][j] = median(segment);
        }
    }
    out
}

fn mean(v: &[f64]) -> f64 {
    mean_of(v.iter().copied(), v.len())
}

/// The mean of `n` values, NaN for none.
fn mean_of(v: impl Iterator<Item = f64>, n: usize) -> f64 {
    v.sum::<f64>() / n as f64
}

/// The median of `v` (reordered in place); the mean of the two middle
/// values for an even count, NaN for none.
fn median(v: &mut [f64]) -> f64 {
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    let (lower, &mut mid, _) = v.select_nth_unstable_by(n / 2, f64::total_cmp);
    if n % 2 == 1 {
        mid
    } else {
        let below = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        below / 2.0 + mid / 2.0
    }
}

/// A short label from the [`LABEL_FEATURES`] features with the largest |z|
/// of at least [`LABEL_THRESHOLD`] (ties in feature order), joined with
/// " · ": "high x" / "low x", except that a low `recency*` reads "recent"
/// (a high one "lapsed"), a high `frequency*` reads "frequent" (a low one
/// "infrequent"), a boolean reads "x" / "not x", and a text value
/// ("channel=web") counts only when it is more common than overall (that
/// another value is rarer says less). "typical" when nothing stands out.
pub fn label(features: &[(String, FeatureKind)], z: &[f64]) -> String {
    let mut picked: Vec<(usize, f64)> = z
        .iter()
        .copied()
        .enumerate()
        .filter(|&(j, v)| v.abs() >= LABEL_THRESHOLD && (features[j].1 != FeatureKind::Category || v > 0.0))
        .collect();
    picked.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
    picked.truncate(LABEL_FEATURES);
    if picked.is_empty() {
        return "typical".to_string();
    }
    picked
        .iter()
        .map(|&(j, v)| {
            let (name, kind) = &features[j];
            let lower = name.to_lowercase();
            match (kind, v > 0.0) {
                (FeatureKind::Indicator | FeatureKind::Category, true) => return name.clone(),
                (FeatureKind::Indicator, false) => return format!("not {name}"),
                _ => {}
            }
            match (lower.starts_with("recency"), lower.starts_with("frequency"), v > 0.0) {
                (true, _, false) => "recent".to_string(),
                (true, _, true) => "lapsed".to_string(),
                (_, true, true) => "frequent".to_string(),
                (_, true, false) => "infrequent".to_string(),
                (_, _, true) => format!("high {name}"),
                (_, _, false) => format!("low {name}"),
            }
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment;

    fn names(v: &[&str]) -> Vec<(String, FeatureKind)> {
        v.iter().map(|s| (s.to_string(), FeatureKind::Measure)).collect()
    }

    #[test]
    fn medians_are_exact_per_segment() {
        let mut v = [5.0, 1.0, 3.0];
        assert_eq!(median(&mut v), 3.0);
        let mut v = [4.0, 1.0, 3.0, 2.0];
        assert_eq!(median(&mut v), 2.5);
        assert!(median(&mut []).is_nan());

        let x = [100.0, 1.0, 101.0, 2.0, 150.0, 3.0, 4.0];
        let fit = segment(&x, 1, 2, 1, &|| {}).unwrap();
        let same: Vec<Box<dyn Fn(f64) -> f64>> = vec![Box::new(|v| v)];
        let p = profile(&x, 1, &fit, &same, &|| {});
        // Segment 1 is the larger, {1, 2, 3, 4}.
        assert_eq!(p.medians, vec![vec![2.5], vec![101.0]]);
        assert_eq!(p.means, vec![vec![2.5], vec![351.0 / 3.0]]);
        assert!((p.overall_means[0] - 361.0 / 7.0).abs() < 1e-12);
        // Means and medians are of the displayed values, z of the model's.
        let doubled: Vec<Box<dyn Fn(f64) -> f64>> = vec![Box::new(|v| 2.0 * v)];
        let q = profile(&x, 1, &fit, &doubled, &|| {});
        assert_eq!(q.medians, vec![vec![5.0], vec![202.0]]);
        assert_eq!(q.z, p.z);
        let sd = (x.iter().map(|v| (v - 361.0 / 7.0).powi(2)).sum::<f64>() / 7.0).sqrt();
        assert!((p.z[0][0] - (2.5 - 361.0 / 7.0) / sd).abs() < 1e-12);
    }

    #[test]
    fn labels_name_the_most_distinctive_features() {
        let f = names(&["recency_days", "frequency", "monetary", "tenure"]);
        assert_eq!(label(&f, &[-1.2, 0.9, 2.0, 0.1]), "high monetary · recent · frequent");
        assert_eq!(label(&f, &[1.5, -0.6, -0.2, 0.7]), "lapsed · high tenure · infrequent");
        assert_eq!(label(&f, &[0.2, -0.3, 0.49, 0.0]), "typical");
        assert_eq!(label(&names(&["spend"]), &[-3.0]), "low spend");
        // Ties keep the feature order.
        assert_eq!(label(&names(&["a", "b"]), &[1.0, -1.0]), "high a · low b");
        let indicators = vec![
            ("channel=web".to_string(), FeatureKind::Category),
            ("member".to_string(), FeatureKind::Indicator),
            ("channel=store".to_string(), FeatureKind::Category),
        ];
        assert_eq!(label(&indicators, &[1.0, -0.8, -1.0]), "channel=web · not member");
    }
}
