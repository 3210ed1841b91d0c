//! Choosing k and judging a segmentation: mean silhouette (Euclidean, in
//! the standardised space) on a seeded sample, Davies–Bouldin on all rows.
//!
//! The silhouette needs every pairwise distance, O(n²·d), so above
//! [`SAMPLE_ROWS`] rows it is taken on a seeded sample of that many rows:
//! 10,000² × 16 is about a second on 2 cores, a million² would be days.
//! To choose k, each candidate k-means runs on that sample with the full
//! [`crate::N_RUNS`] restarts (cheap at 10,000 rows), and the caller then
//! fits the chosen k on all rows. Below the limit the sample is the whole
//! table and the winning candidate is the fit itself.

use rand_xoshiro::rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256Plus;
use rayon::prelude::*;

use crate::{segment, SegmentError, Segmentation};

/// The candidates when k is chosen.
pub const K_CANDIDATES: std::ops::RangeInclusive<usize> = 2..=10;
/// The silhouette is computed on at most this many rows.
pub const SAMPLE_ROWS: usize = 10_000;

/// Sorted indices of a seeded sample of `min(n, size)` of `0..n` without
/// replacement (all of them when `n <= size`).
pub fn sample_indices(n: usize, size: usize, seed: u64) -> Vec<usize> {
    if n <= size {
        return (0..n).collect();
    }
    // Partial Fisher-Yates over a virtual 0..n: only the swapped slots are stored.
    let mut rng = Xoshiro256Plus::seed_from_u64(seed);
    let mut swapped = std::collections::HashMap::new();
    let mut out: Vec<usize> = (0..size)
        .map(|i| {
            let j = i + ((u128::from(rng.next_u64()) * (n - i) as u128) >> 64) as usize;
            let at_j = *swapped.get(&j).unwrap_or(&j);
            let at_i = *swapped.get(&i).unwrap_or(&i);
            swapped.insert(j, at_i);
            at_j
        })
        .collect();
    out.sort_unstable();
    out
}

/// Rows of the silhouette pass between two interrupt checks.
const CHUNK: usize = 64;

/// Mean silhouette of each labelling of the same points `z` (row-major,
/// `d` wide; labels 1..=k), sharing one pass over the pairwise distances.
/// A point alone in its segment scores 0 (scikit-learn's convention);
/// `None` for a labelling with fewer than 2 segments.
pub fn silhouettes(z: &[f64], d: usize, labellings: &[&[u32]], check: &dyn Fn()) -> Vec<Option<f64>> {
    let n = z.len() / d;
    let ks: Vec<usize> = labellings
        .iter()
        .map(|l| l.iter().copied().max().unwrap_or(0) as usize)
        .collect();
    let sizes: Vec<Vec<usize>> = labellings
        .iter()
        .zip(&ks)
        .map(|(l, &k)| {
            let mut s = vec![0; k + 1];
            l.iter().for_each(|&c| s[c as usize] += 1);
            s
        })
        .collect();
    let mut totals = vec![0.0; labellings.len()];
    let point = |i: usize| &z[i * d..(i + 1) * d];
    for start in (0..n).step_by(CHUNK) {
        check();
        let parts: Vec<Vec<f64>> = (start..(start + CHUNK).min(n))
            .into_par_iter()
            .map(|i| {
                // Per labelling, the sum of distances from i to each segment.
                let mut sums: Vec<Vec<f64>> = ks.iter().map(|&k| vec![0.0; k + 1]).collect();
                for j in (0..n).filter(|&j| j != i) {
                    let dist = point(i)
                        .iter()
                        .zip(point(j))
                        .fold(0.0, |s, (a, b)| s + (a - b) * (a - b))
                        .sqrt();
                    for (s, l) in sums.iter_mut().zip(labellings) {
                        s[l[j] as usize] += dist;
                    }
                }
                sums.iter()
                    .zip(labellings.iter().zip(&sizes))
                    .map(|(s, (l, size))| {
                        let own = l[i] as usize;
                        if size[own] < 2 {
                            return 0.0;
                        }
                        let a = s[own] / (size[own] - 1) as f64;
                        let b = (1..s.len())
                            .filter(|&c| c != own && size[c] > 0)
                            .map(|c| s[c] / size[c] as f64)
                            .fold(f64::INFINITY, f64::min);
                        if b.is_finite() && a.max(b) > 0.0 {
                            (b - a) / a.max(b)
                        } else {
                            0.0
                        }
                    })
                    .collect()
            })
            .collect();
        for part in parts {
            totals.iter_mut().zip(part).for_each(|(t, v)| *t += v);
        }
    }
    totals
        .iter()
        .zip(&ks)
        .map(|(t, &k)| (k >= 2 && n > 0).then(|| t / n as f64))
        .collect()
}

/// Davies–Bouldin index of a fit (lower is better): the mean over segments
/// of the worst (S_i + S_j) / M_ij, S the mean distance of a segment's
/// rows to its centroid and M the distance between centroids. `None` for
/// fewer than 2 segments.
pub fn davies_bouldin(fit: &Segmentation) -> Option<f64> {
    let k = fit.centroids.len();
    if k < 2 {
        return None;
    }
    let mut spread = vec![0.0; k];
    for (&s, &dist) in fit.segment.iter().zip(&fit.distance) {
        spread[s as usize - 1] += dist;
    }
    spread
        .iter_mut()
        .zip(&fit.sizes)
        .for_each(|(s, &n)| *s /= n.max(1) as f64);
    let worst = (0..k).map(|i| {
        (0..k)
            .filter(|&j| j != i)
            .map(|j| {
                let m = crate::model::nearest(&fit.centroids[i], &fit.centroids[j..=j]).1;
                (spread[i] + spread[j]) / m
            })
            .fold(0.0, f64::max)
    });
    Some(worst.sum::<f64>() / k as f64)
}

/// How good a fit is.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    pub inertia: f64,
    /// Mean silhouette on the [`sample_indices`] rows.
    pub silhouette: Option<f64>,
    /// Rows the silhouette was computed on.
    pub silhouette_rows: usize,
    pub davies_bouldin: Option<f64>,
}

/// The rows `indices` of `x` (row-major, `d` wide).
fn rows_at(x: &[f64], d: usize, indices: &[usize]) -> Vec<f64> {
    indices.iter().flat_map(|&i| x[i * d..(i + 1) * d].iter().copied()).collect()
}

/// The metrics of `fit`, a segmentation of the rows of `x` (`d` wide).
pub fn metrics(x: &[f64], d: usize, fit: &Segmentation, seed: u64, check: &dyn Fn()) -> Metrics {
    let sample = sample_indices(x.len() / d, SAMPLE_ROWS, seed);
    let z = rows_at(x, d, &sample);
    let labels: Vec<u32> = sample.iter().map(|&i| fit.segment[i]).collect();
    Metrics {
        inertia: fit.inertia,
        silhouette: silhouettes(&z, d, &[&labels], check)[0],
        silhouette_rows: sample.len(),
        davies_bouldin: davies_bouldin(fit),
    }
}

/// The k chosen by silhouette.
#[derive(Debug, Clone)]
pub struct KChoice {
    pub k: usize,
    /// Each candidate k tried and its mean silhouette.
    pub scores: Vec<(usize, f64)>,
    /// The fit of the chosen k when the sample was the whole table (it is
    /// then exactly `segment(x, d, k, seed)`).
    pub fit: Option<Segmentation>,
    /// Rows the candidates were fitted and scored on.
    pub sample_rows: usize,
}

/// The k in [`K_CANDIDATES`] with the highest mean silhouette (ties to the
/// smaller k), each candidate fitted by [`segment`] with `seed` on the
/// [`sample_indices`] rows. Candidates above the number of distinct rows
/// are skipped; fewer than 2 distinct rows is [`SegmentError::UnusableData`].
pub fn choose_k(x: &[f64], d: usize, seed: u64, check: &dyn Fn()) -> Result<KChoice, SegmentError> {
    let n = x.len() / d.max(1);
    let sample = sample_indices(n, SAMPLE_ROWS, seed);
    let whole = sample.len() == n;
    let sampled: Vec<f64>;
    let on: &[f64] = if whole {
        x
    } else {
        sampled = rows_at(x, d, &sample);
        &sampled
    };
    let mut fits: Vec<Segmentation> = Vec::new();
    for k in K_CANDIDATES {
        match segment(on, d, k, seed, check) {
            Ok(fit) => fits.push(fit),
            // k above the rows or the distinct rows: so is every larger k.
            Err(SegmentError::InvalidParameter(_)) if !fits.is_empty() => break,
            Err(SegmentError::InvalidParameter(_)) => {
                return Err(SegmentError::UnusableData(
                    "choosing k needs at least 2 distinct rows".to_string(),
                ))
            }
            Err(e) => return Err(e),
        }
    }
    let labellings: Vec<&[u32]> = fits.iter().map(|f| f.segment.as_slice()).collect();
    let scores: Vec<(usize, f64)> = silhouettes(on, d, &labellings, check)
        .into_iter()
        .zip(&fits)
        .map(|(s, f)| (f.centroids.len(), s.unwrap_or(f64::NEG_INFINITY)))
        .collect();
    let best = scores
        .iter()
        .enumerate()
        .fold(0, |b, (i, s)| if s.1 > scores[b].1 { i } else { b });
    Ok(KChoice {
        k: scores[best].0,
        fit: whole.then(|| fits.swap_remove(best)),
        scores,
        sample_rows: sample.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `groups` tight groups of `size` rows around distant centres in 2-D.
    fn groups(groups: usize, size: usize) -> Vec<f64> {
        let mut rng = Xoshiro256Plus::seed_from_u64(3);
        let mut u = move || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        (0..groups * size)
            .flat_map(|i| {
                let g = (i / size) as f64;
                [g * 20.0 + u(), (g * 7.0) % 30.0 + u()]
            })
            .collect()
    }

    #[test]
    fn sample_is_seeded_distinct_and_sorted() {
        assert_eq!(sample_indices(5, SAMPLE_ROWS, 1), vec![0, 1, 2, 3, 4]);
        let a = sample_indices(50_000, SAMPLE_ROWS, 1);
        assert_eq!(a.len(), SAMPLE_ROWS);
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        assert!(*a.last().unwrap() < 50_000);
        assert_eq!(a, sample_indices(50_000, SAMPLE_ROWS, 1));
        assert_ne!(a, sample_indices(50_000, SAMPLE_ROWS, 2));
        // Spread over the whole range, not the first rows.
        assert!(a.iter().filter(|&&i| i >= 25_000).count() > 4_000);
    }

    #[test]
    fn silhouette_matches_a_hand_computation() {
        // 1-D points 0, 1 | 5, 7: a(0)=1, b(0)=6 -> 5/6; a(1)=1, b(1)=5 -> 4/5;
        // a(5)=2, b(5)=4.5 -> 2.5/4.5; a(7)=2, b(7)=6.5 -> 4.5/6.5.
        let z = [0.0, 1.0, 5.0, 7.0];
        let want = (5.0 / 6.0 + 4.0 / 5.0 + 2.5 / 4.5 + 4.5 / 6.5) / 4.0;
        let got = silhouettes(&z, 1, &[&[1, 1, 2, 2], &[1, 1, 1, 1]], &|| {});
        assert!((got[0].unwrap() - want).abs() < 1e-12, "{got:?}");
        assert_eq!(got[1], None);
        // A singleton scores 0: (0 + 0 + s(5) + s(7)) with 5, 7 each other's
        // only neighbour; here {0} alone, {1} alone.
        let got = silhouettes(&z, 1, &[&[1, 2, 3, 3]], &|| {})[0].unwrap();
        let s5 = (4.0 - 2.0) / 4.0;
        let s7 = (6.0 - 2.0) / 6.0;
        assert!((got - (s5 + s7) / 4.0).abs() < 1e-12);
    }

    #[test]
    fn davies_bouldin_matches_a_hand_computation() {
        let x = [0.0, 2.0, 10.0, 12.0, 14.0];
        let fit = segment(&x, 1, 2, 1, &|| {}).unwrap();
        // Segment 1 {10, 12, 14}: S = 4/3; segment 2 {0, 2}: S = 1; the
        // centroids 12 and 1 are 11 apart.
        let want = ((4.0 / 3.0) + 1.0) / 11.0;
        let got = davies_bouldin(&fit).unwrap();
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    }

    #[test]
    fn picks_the_number_of_well_separated_groups() {
        for g in [2, 3, 4, 6] {
            let x = groups(g, 40);
            let choice = choose_k(&x, 2, 5, &|| {}).unwrap();
            assert_eq!(choice.k, g, "{:?}", choice.scores);
            assert_eq!(choice.scores.len(), 9);
            let fit = choice.fit.unwrap();
            assert_eq!(fit, segment(&x, 2, g, 5, &|| {}).unwrap());
        }
    }

    #[test]
    fn large_tables_choose_on_a_sample() {
        let x = groups(3, 4_000);
        let choice = choose_k(&x, 2, 5, &|| {}).unwrap();
        assert_eq!(choice.k, 3);
        assert_eq!(choice.sample_rows, SAMPLE_ROWS);
        assert!(choice.fit.is_none());
    }

    #[test]
    fn few_distinct_rows_limit_the_candidates() {
        let x: Vec<f64> = (0..30).map(|i| (i % 3) as f64 * 10.0).collect();
        let choice = choose_k(&x, 1, 5, &|| {}).unwrap();
        assert_eq!(choice.k, 3);
        assert_eq!(choice.scores.iter().map(|s| s.0).collect::<Vec<_>>(), vec![2, 3]);
        assert!(matches!(choose_k(&[1.0; 5], 1, 5, &|| {}), Err(SegmentError::UnusableData(_))));
    }

    #[test]
    fn metrics_of_a_clear_fit() {
        let x = groups(3, 50);
        let fit = segment(&x, 2, 3, 5, &|| {}).unwrap();
        let m = metrics(&x, 2, &fit, 5, &|| {});
        assert!(m.silhouette.unwrap() > 0.9, "{m:?}");
        assert!(m.davies_bouldin.unwrap() < 0.2, "{m:?}");
        assert_eq!(m.silhouette_rows, 150);
        assert_eq!(m.inertia, fit.inertia);
    }

    #[test]
    fn the_check_is_called_during_the_silhouette() {
        let calls = std::cell::Cell::new(0);
        let z: Vec<f64> = (0..1000).map(|i| i as f64).collect();
        let labels: Vec<u32> = (0..1000).map(|i| 1 + (i >= 500) as u32).collect();
        silhouettes(&z, 1, &[&labels], &|| calls.set(calls.get() + 1));
        assert!(calls.get() >= 1000 / CHUNK);
    }
}
