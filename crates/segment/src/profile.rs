//! Segment profiles an analyst can read: per segment and feature the mean
//! and median in original units, the z-score of the mean against the whole
//! table, and a short label from the most distinctive features.

use crate::Segmentation;

/// A feature enters a label when its segment mean is at least this many
/// standard deviations from the overall mean.
pub const LABEL_THRESHOLD: f64 = 0.5;
/// At most this many features in a label.
pub const LABEL_FEATURES: usize = 3;

/// Per segment (index 0 = segment 1), the exact median of each feature in
/// original units, NULLs at their imputed value (the column mean) as the fit
/// saw them. One selection per segment and feature, O(n) each; `check` runs
/// once per feature.
pub fn medians(rows: &[Vec<Option<f64>>], fit: &Segmentation, check: &dyn Fn()) -> Vec<Vec<f64>> {
    let k = fit.sizes.len();
    let d = fit.means.len();
    // Rows grouped by segment: segment c's values live at starts[c]..starts[c + 1].
    let mut starts = vec![0; k + 1];
    for (c, &n) in fit.sizes.iter().enumerate() {
        starts[c + 1] = starts[c] + n;
    }
    let mut out = vec![vec![0.0; d]; k];
    let mut values = vec![0.0; rows.len()];
    for j in 0..d {
        check();
        let mut next = starts.clone();
        for (row, &s) in rows.iter().zip(&fit.segment) {
            let c = s as usize - 1;
            values[next[c]] = row[j].unwrap_or(fit.means[j]);
            next[c] += 1;
        }
        for c in 0..k {
            out[c][j] = median(&mut values[starts[c]..starts[c + 1]]);
        }
    }
    out
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

/// (segment mean − overall mean) / overall std per feature; 0 for a
/// constant column (std 0), which is the same in every segment.
pub fn z_scores(segment_means: &[f64], overall_means: &[f64], stds: &[f64]) -> Vec<f64> {
    segment_means
        .iter()
        .zip(overall_means.iter().zip(stds))
        .map(|(&m, (&o, &s))| if s > 0.0 { (m - o) / s } else { 0.0 })
        .collect()
}

/// A short label from the [`LABEL_FEATURES`] features with the largest |z|
/// of at least [`LABEL_THRESHOLD`] (ties in feature order), joined with
/// " · ": "high x" / "low x", except that a low `recency*` reads "recent"
/// (a high one "lapsed") and a high `frequency*` reads "frequent" (a low one
/// "infrequent"). "typical" when nothing stands out.
pub fn label(features: &[String], z: &[f64]) -> String {
    let mut picked: Vec<(usize, f64)> = z
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, v)| v.abs() >= LABEL_THRESHOLD)
        .collect();
    picked.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
    picked.truncate(LABEL_FEATURES);
    if picked.is_empty() {
        return "typical".to_string();
    }
    picked
        .iter()
        .map(|&(j, v)| {
            let name = &features[j];
            let lower = name.to_lowercase();
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

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn medians_are_exact_per_segment() {
        let mut v = [5.0, 1.0, 3.0];
        assert_eq!(median(&mut v), 3.0);
        let mut v = [4.0, 1.0, 3.0, 2.0];
        assert_eq!(median(&mut v), 2.5);
        assert!(median(&mut []).is_nan());

        let col = |v: &[Option<f64>]| v.iter().map(|&x| vec![x]).collect::<Vec<_>>();
        let rows = col(&[Some(100.0), Some(1.0), Some(101.0), Some(2.0), Some(150.0), Some(3.0), Some(4.0)]);
        let fit = segment(&rows, 2, 1, &|| {}).unwrap();
        // Segment 1 is the larger, {1, 2, 3, 4}.
        assert_eq!(medians(&rows, &fit, &|| {}), vec![vec![2.5], vec![101.0]]);
        // A NULL counts at the column mean, 2: {1, 2, 3, 2}.
        let rows = col(&[Some(1.0), None, Some(3.0), Some(2.0)]);
        let fit = segment(&rows, 1, 1, &|| {}).unwrap();
        assert_eq!(medians(&rows, &fit, &|| {}), vec![vec![2.0]]);
    }

    #[test]
    fn z_scores_against_the_overall_mean_and_std() {
        assert_eq!(z_scores(&[12.0, 5.0], &[10.0, 5.0], &[4.0, 0.0]), vec![0.5, 0.0]);
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
    }
}
