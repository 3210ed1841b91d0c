//! Scoring with a saved model: rows encoded by the fit's own
//! [`crate::features::Encoder`], then the nearest saved centroid.

use rayon::prelude::*;

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

/// Rows scored between two interrupt checks.
const BLOCK_ROWS: usize = 16_384;

/// A row of [`assign`] whose distances overflow: its z-scores are finite but
/// too large to square, so every centroid is infinitely far and none is the
/// nearest. `feature` is its largest z-score, the one to blame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge {
    pub row: usize,
    pub feature: usize,
}

/// Per row of `x` (row-major, `d` wide, in the model's space), its segment
/// (1-based index of the nearest centroid) and the distance to it.
pub fn assign(x: &[f64], d: usize, centroids: &[Vec<f64>], check: &dyn Fn()) -> Result<Vec<(u32, f64)>, TooLarge> {
    let mut out = Vec::with_capacity(x.len() / d.max(1));
    if d == 0 {
        return Ok(out);
    }
    for (b, block) in x.chunks(BLOCK_ROWS * d).enumerate() {
        check();
        let part: Vec<Result<(u32, f64), TooLarge>> = block
            .par_chunks(d)
            .enumerate()
            .map(|(i, z)| {
                let (c, dist) = nearest(z, centroids);
                if !dist.is_finite() {
                    let feature = (0..d).max_by(|&a, &b| z[a].abs().total_cmp(&z[b].abs())).unwrap_or(0);
                    return Err(TooLarge { row: b * BLOCK_ROWS + i, feature });
                }
                Ok((c as u32 + 1, dist))
            })
            .collect();
        for r in part {
            out.push(r?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::{Column, Encoder, Options, Table, Values};
    use crate::segment;

    #[test]
    fn scoring_the_training_rows_gives_the_fit_back() {
        let col = |f: &dyn Fn(usize) -> Option<f64>| Values::Number((0..300).map(f).collect());
        let table = Table {
            ids: (0..300).map(|i| i.to_string()).collect(),
            columns: vec![
                Column {
                    name: "a".into(),
                    values: col(&|i| Some((i % 3) as f64 * 100.0 + (i % 7) as f64)),
                },
                Column {
                    name: "b".into(),
                    values: col(&|i| (i % 11 != 0).then_some((i % 3) as f64 * 5.0 + (i % 5) as f64)),
                },
            ],
        };
        let (encoder, e) = Encoder::fit(&table, &Options::default(), &|| {}).unwrap();
        let fit = segment(&e.x, e.cols, 3, 7, &|| {}).unwrap();
        let again = encoder.encode(&table, &|| {}).unwrap();
        let got = assign(&again.x, again.cols, &fit.centroids, &|| {}).unwrap();
        for (i, (s, dist)) in got.iter().enumerate() {
            assert_eq!(*s, fit.segment[i], "row {i}");
            assert!((dist - fit.distance[i]).abs() < 1e-12, "row {i}");
        }
    }

    #[test]
    fn z_scores_whose_squares_overflow_are_too_large() {
        let x = [0.5, 0.5, 1.0, 1e200];
        let centroids = [vec![0.0, 0.0], vec![1.0, 1.0]];
        assert_eq!(assign(&x, 2, &centroids, &|| {}), Err(TooLarge { row: 1, feature: 1 }));
    }

    #[test]
    fn nearest_centroid_with_ties_to_the_first() {
        let c = vec![vec![0.0, 0.0], vec![2.0, 0.0]];
        assert_eq!(nearest(&[1.9, 0.0], &c).0, 1);
        assert_eq!(nearest(&[1.0, 0.0], &c), (0, 1.0));
    }
}
