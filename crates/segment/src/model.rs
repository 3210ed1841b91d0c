//! Scoring with a saved model: the transforms of the fit (imputation,
//! standardisation) applied exactly as [`crate::segment`] applied them, then
//! the nearest saved centroid.

use rayon::prelude::*;

use crate::{SegmentError, Segmentation};

/// The transforms a fit learnt. A feature's z-score is
/// `(value - mean) / scale`, a NULL takes `mean` (so z = 0), and a constant
/// column (`scale` 0) is always 0.
#[derive(Debug, Clone, PartialEq)]
pub struct Transform {
    pub means: Vec<f64>,
    pub scales: Vec<f64>,
}

impl Transform {
    pub fn of(fit: &Segmentation) -> Self {
        Self {
            means: fit.means.clone(),
            scales: fit.scales.clone(),
        }
    }

    /// The z-scores of one row, or the position (0-based) of its first
    /// feature that is NaN, infinite or too large to standardise.
    pub fn standardise(&self, row: &[Option<f64>]) -> Result<Vec<f64>, usize> {
        row.iter()
            .zip(self.means.iter().zip(&self.scales))
            .enumerate()
            .map(|(j, (v, (&mean, &scale)))| {
                // The same expression as the fit, so the training rows get
                // the same bits back.
                let x = v.unwrap_or(mean);
                let z = if scale > 0.0 { (x - mean) / scale } else { 0.0 };
                if x.is_finite() && z.is_finite() {
                    Ok(z)
                } else {
                    Err(j)
                }
            })
            .collect()
    }

    /// Rows `indices` of `rows`, standardised, row-major. The rows come
    /// from a fit with this transform, so every value is finite.
    pub fn standardise_rows(&self, rows: &[Vec<Option<f64>>], indices: &[usize]) -> Vec<f64> {
        indices
            .iter()
            .flat_map(|&i| {
                self.standardise(&rows[i])
                    .unwrap_or_else(|_| vec![0.0; self.means.len()])
            })
            .collect()
    }
}

/// The nearest of `centroids` to `z` (ties to the lower index) and the
/// Euclidean distance to it. The squares are summed in feature order, as in
/// the fit's own final assignment.
pub fn nearest(z: &[f64], centroids: &[Vec<f64>]) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (c, centroid) in centroids.iter().enumerate() {
        let sq = z
            .iter()
            .zip(centroid)
            .fold(0.0, |s, (a, b)| s + (a - b) * (a - b));
        if sq < best.1 {
            best = (c, sq);
        }
    }
    (best.0, best.1.sqrt())
}

/// Per row, its segment (1-based index of the nearest centroid) and the
/// distance to it, after `transform`. `ids` and `features` name the row
/// and feature in errors: a NaN, infinite or unstandardisable value is
/// [`SegmentError::UnusableData`], a row of the wrong width
/// [`SegmentError::InvalidParameter`].
pub fn assign(
    rows: &[Vec<Option<f64>>],
    ids: &[String],
    features: &[String],
    transform: &Transform,
    centroids: &[Vec<f64>],
    check: &dyn Fn(),
) -> Result<Vec<(u32, f64)>, SegmentError> {
    let d = transform.means.len();
    if features.len() != d || centroids.iter().any(|c| c.len() != d) {
        return Err(SegmentError::InvalidParameter(format!(
            "the model has {d} features but {} names and centroids of {:?} values",
            features.len(),
            centroids.iter().map(Vec::len).collect::<Vec<_>>()
        )));
    }
    let mut out = Vec::with_capacity(rows.len());
    // Blocks keep the interrupt check on the calling thread and frequent.
    for (b, block) in rows.chunks(16_384).enumerate() {
        check();
        let part: Vec<Result<(u32, f64), (usize, usize)>> = block
            .par_iter()
            .enumerate()
            .map(|(i, row)| {
                let z = transform.standardise(row).map_err(|j| (b * 16_384 + i, j))?;
                let (c, dist) = nearest(&z, centroids);
                if !dist.is_finite() {
                    // Finite z-scores whose squares overflow: every centroid
                    // is infinitely far, so none is the nearest. Blame the
                    // largest z-score.
                    let j = (0..z.len()).max_by(|&a, &b| z[a].abs().total_cmp(&z[b].abs())).unwrap_or(0);
                    return Err((b * 16_384 + i, j));
                }
                Ok((c as u32 + 1, dist))
            })
            .collect();
        for r in part {
            match r {
                Ok(v) => out.push(v),
                Err((i, j)) => {
                    let what = match rows[i][j] {
                        Some(x) if x.is_nan() => "NaN",
                        Some(x) if x.is_infinite() => "infinite",
                        _ => "too large for the model's scale",
                    };
                    return Err(SegmentError::UnusableData(format!(
                        "customer \"{}\" has a \"{}\" that is {what}",
                        ids.get(i).map_or("?", String::as_str),
                        features[j]
                    )));
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn scoring_the_training_rows_gives_the_fit_back() {
        let rows: Vec<Vec<Option<f64>>> = (0..300)
            .map(|i| {
                let g = (i % 3) as f64;
                vec![
                    Some(g * 100.0 + (i % 7) as f64),
                    if i % 11 == 0 { None } else { Some(g * 5.0 + (i % 5) as f64) },
                    Some(4.0),
                ]
            })
            .collect();
        let fit = segment(&rows, 3, 7, &|| {}).unwrap();
        let t = Transform::of(&fit);
        assert_eq!(t.scales[2], 0.0);
        let ids: Vec<String> = (0..rows.len()).map(|i| i.to_string()).collect();
        let got = assign(&rows, &ids, &names(&["a", "b", "c"]), &t, &fit.centroids, &|| {}).unwrap();
        for (i, (s, dist)) in got.iter().enumerate() {
            assert_eq!(*s, fit.segment[i], "row {i}");
            assert!((dist - fit.distance[i]).abs() < 1e-12, "row {i}");
        }
    }

    #[test]
    fn saved_transforms_not_the_new_data_s() {
        let t = Transform {
            means: vec![10.0, 0.0],
            scales: vec![2.0, 0.0],
        };
        assert_eq!(t.standardise(&[Some(14.0), Some(99.0)]), Ok(vec![2.0, 0.0]));
        assert_eq!(t.standardise(&[None, None]), Ok(vec![0.0, 0.0]));
        assert_eq!(t.standardise(&[Some(f64::NAN), None]), Err(0));
        assert_eq!(t.standardise(&[Some(1.0), Some(f64::INFINITY)]), Err(1));
        let big = Transform {
            means: vec![0.0],
            scales: vec![1e-300],
        };
        assert_eq!(big.standardise(&[Some(1e300)]), Err(0));
    }

    #[test]
    fn nearest_centroid_with_ties_to_the_first() {
        let c = vec![vec![0.0, 0.0], vec![2.0, 0.0]];
        assert_eq!(nearest(&[1.9, 0.0], &c).0, 1);
        assert_eq!(nearest(&[1.0, 0.0], &c), (0, 1.0));
    }

    #[test]
    fn bad_values_name_the_customer_and_feature() {
        let t = Transform {
            means: vec![0.0],
            scales: vec![1.0],
        };
        let rows = vec![vec![Some(1.0)], vec![Some(f64::NAN)]];
        let e = assign(&rows, &names(&["a", "b"]), &names(&["spend"]), &t, &[vec![0.0]], &|| {})
            .unwrap_err();
        assert_eq!(
            e,
            SegmentError::UnusableData("customer \"b\" has a \"spend\" that is NaN".into())
        );
    }

    #[test]
    fn z_scores_whose_squares_overflow_are_too_large() {
        let t = Transform {
            means: vec![0.0, 0.0],
            scales: vec![1.0, 1.0],
        };
        let rows = vec![vec![Some(1.0), Some(1e200)]];
        let e = assign(&rows, &names(&["a"]), &names(&["visits", "spend"]), &t, &[vec![0.0, 0.0], vec![1.0, 1.0]], &|| {})
            .unwrap_err();
        assert_eq!(
            e,
            SegmentError::UnusableData("customer \"a\" has a \"spend\" that is too large for the model's scale".into())
        );
    }
}
