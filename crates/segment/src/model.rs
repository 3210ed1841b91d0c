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

/// Per row of `x` (row-major, `d` wide, in the model's space), its segment
/// (1-based index of the nearest centroid) and the distance to it.
pub fn assign(x: &[f64], d: usize, centroids: &[Vec<f64>], check: &dyn Fn()) -> Vec<(u32, f64)> {
    let mut out = Vec::with_capacity(x.len() / d.max(1));
    if d == 0 {
        return out;
    }
    for block in x.chunks(BLOCK_ROWS * d) {
        check();
        out.par_extend(block.par_chunks(d).map(|z| {
            let (c, dist) = nearest(z, centroids);
            (c as u32 + 1, dist)
        }));
    }
    out
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
        let got = assign(&again.x, again.cols, &fit.centroids, &|| {});
        for (i, (s, dist)) in got.iter().enumerate() {
            assert_eq!(*s, fit.segment[i], "row {i}");
            assert!((dist - fit.distance[i]).abs() < 1e-12, "row {i}");
        }
    }

    #[test]
    fn nearest_centroid_with_ties_to_the_first() {
        let c = vec![vec![0.0, 0.0], vec![2.0, 0.0]];
        assert_eq!(nearest(&[1.9, 0.0], &c).0, 1);
        assert_eq!(nearest(&[1.0, 0.0], &c), (0, 1.0));
    }
}
