//! Customer segmentation core of retailml: feature matrix preparation,
//! standardisation and seeded k-means (linfa) with profiles per segment.
//!
//! The crate never touches Postgres. The long loop takes a `check` callback
//! that the glue wires to Postgres' interrupt check.

use std::collections::HashSet;
use std::fmt;

use linfa::prelude::*;
use linfa::DatasetBase;
use linfa_clustering::{KMeans, KMeansInit};
use ndarray::{Array1, Array2, ArrayView2, Axis};
use rand_xoshiro::rand_core::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;

/// k-means++ restarts; the best (lowest inertia) run wins.
pub const N_RUNS: usize = 10;
/// Lloyd iterations per run at most.
pub const MAX_ITERATIONS: usize = 300;
/// A run has converged when the squared centroid movement of an iteration,
/// summed over all centroids, is at most this fraction of the mean feature
/// variance (scikit-learn's definition). An absolute bound on the movement,
/// as linfa has, keeps uniform-ish data creeping for hundreds of iterations
/// with no visible change in the segments.
pub const TOLERANCE: f64 = 1e-4;
/// The most segments one call makes. Segments are for people to read, and
/// linfa's k-means++ seeding (O(n·k) per run, with no interrupt check inside)
/// could otherwise run for minutes without answering a cancel.
pub const MAX_K: usize = 1000;
/// The seed the SQL function uses, fixed so that the same table always gives
/// the same segments.
pub const DEFAULT_SEED: u64 = 20_260_101;
/// How often a run whose final assignment leaves a segment empty is repaired
/// before the run is given up.
const MAX_REPAIRS: usize = 3;

/// Why a segmentation could not be made. The glue maps each variant to a SQLSTATE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SegmentError {
    /// A bad argument (SQLSTATE 22023).
    InvalidParameter(String),
    /// The data itself cannot be segmented (SQLSTATE 22000).
    UnusableData(String),
    /// A library failure that should not happen (SQLSTATE XX000).
    Internal(String),
}

impl fmt::Display for SegmentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidParameter(m) | Self::UnusableData(m) | Self::Internal(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for SegmentError {}

/// The result of [`segment`]. Segments are numbered 1..=k by size, largest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Segmentation {
    /// Per row, its segment (1..=k).
    pub segment: Vec<u32>,
    /// Per row, Euclidean distance to its segment centroid in standardised space.
    pub distance: Vec<f64>,
    /// Per segment (index 0 = segment 1), the number of rows.
    pub sizes: Vec<usize>,
    /// Per segment, the centroid (mean of its rows) in standardised space.
    pub centroids: Vec<Vec<f64>>,
    /// Per segment, the mean of each feature in original units (NULLs counted
    /// at their imputed value, the column mean).
    pub feature_means: Vec<Vec<f64>>,
    /// Total within-segment sum of squared distances, standardised space.
    pub inertia: f64,
}

/// Split `rows` into `k` segments with k-means.
///
/// - Every row must have the same number of features ([`SegmentError::InvalidParameter`]
///   otherwise); no rows or no features is [`SegmentError::UnusableData`].
/// - `k` must be in 1..=rows, and the rows must contain at least `k` distinct
///   points (otherwise some segment would have to be empty).
/// - NaN or ±Infinity is `UnusableData`. `None` (SQL NULL) is replaced by
///   the mean of its column; a column with no values at all is `UnusableData`.
///   Row and feature positions in messages are 1-based, like SQL arrays.
/// - Each feature is standardised to z-scores (population standard
///   deviation) so that dollars do not drown out visit counts; a constant
///   column becomes all zeros, since it carries no information.
/// - k-means++ seeding, [`N_RUNS`] runs, at most [`MAX_ITERATIONS`] Lloyd
///   iterations of linfa each, stopping when the centroids move less than
///   [`TOLERANCE`] allows; the run with the lowest inertia wins. The same
///   `seed` and input always give the same result, whatever the thread count.
///
/// `check` is called on the calling thread before every iteration (each is
/// one pass over the data), so the glue can raise a Postgres interrupt there.
/// linfa's inner loops run on rayon's global thread pool.
pub fn segment(
    rows: &[Vec<Option<f64>>],
    k: usize,
    seed: u64,
    check: &dyn Fn(),
) -> Result<Segmentation, SegmentError> {
    if k > MAX_K {
        return Err(SegmentError::InvalidParameter(format!(
            "k must be at most {MAX_K}, got {k}"
        )));
    }
    let (original, z) = prepare(rows)?;
    let n = original.nrows();
    if k == 0 || k > n {
        return Err(SegmentError::InvalidParameter(format!(
            "k must be between 1 and the number of rows ({n}), got {k}"
        )));
    }
    let distinct = count_distinct_rows(z.view(), k);
    if distinct < k {
        return Err(SegmentError::InvalidParameter(format!(
            "k ({k}) exceeds the number of distinct rows ({distinct})"
        )));
    }

    // Standardised columns have variance 1, constant ones 0.
    let mean_variance = z.var_axis(Axis(0), 0.0).mean().unwrap_or(0.0);
    let tolerance = TOLERANCE * mean_variance;

    // One generator, jumped ahead 2^128 steps per run: independent streams
    // that depend only on `seed`.
    let mut master = Xoshiro256Plus::seed_from_u64(seed);
    let mut best: Option<Assignment> = None;
    for _ in 0..N_RUNS {
        check();
        let rng = master.clone();
        master.jump();
        if let Some(run) = run_once(z.view(), k, rng, tolerance, check)? {
            if best.as_ref().is_none_or(|b| run.inertia < b.inertia) {
                best = Some(run);
            }
        }
    }
    let best = best.ok_or_else(|| {
        SegmentError::Internal("k-means left a segment empty in every run".to_string())
    })?;
    Ok(number_segments(best, original.view()))
}

/// Validate `rows`, impute NULLs, and return (original, standardised) matrices.
fn prepare(rows: &[Vec<Option<f64>>]) -> Result<(Array2<f64>, Array2<f64>), SegmentError> {
    let Some(first) = rows.first() else {
        return Err(SegmentError::UnusableData(
            "there are no rows to segment".to_string(),
        ));
    };
    let d = first.len();
    if d == 0 {
        return Err(SegmentError::UnusableData(
            "rows have no features".to_string(),
        ));
    }
    let n = rows.len();
    // Column means of the non-NULL values, as running means so that huge
    // values cannot overflow a sum.
    let mut means = vec![0.0_f64; d];
    let mut counts = vec![0_usize; d];
    for (i, row) in rows.iter().enumerate() {
        if row.len() != d {
            return Err(SegmentError::InvalidParameter(format!(
                "row {} has {} features, the first row has {d}",
                i + 1,
                row.len()
            )));
        }
        for (j, v) in row.iter().enumerate() {
            if let Some(x) = v {
                if !x.is_finite() {
                    let what = if x.is_nan() { "NaN" } else { "infinite" };
                    return Err(SegmentError::UnusableData(format!(
                        "row {}, feature {} is {what}",
                        i + 1,
                        j + 1
                    )));
                }
                counts[j] += 1;
                // x/c - m/c rather than (x - m)/c: the difference of two
                // values near f64::MAX would overflow.
                let c = counts[j] as f64;
                means[j] += x / c - means[j] / c;
            }
        }
    }
    if let Some(j) = counts.iter().position(|&c| c == 0) {
        return Err(SegmentError::UnusableData(format!(
            "feature {} has only null values",
            j + 1
        )));
    }
    let mut original = Array2::<f64>::zeros((n, d));
    for (i, row) in rows.iter().enumerate() {
        for (j, v) in row.iter().enumerate() {
            original[[i, j]] = v.unwrap_or(means[j]);
        }
    }

    let mut z = Array2::<f64>::zeros((n, d));
    for (j, col) in original.axis_iter(Axis(1)).enumerate() {
        let (lo, hi) = col
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                (lo.min(x), hi.max(x))
            });
        if lo == hi {
            // Constant: all z = 0, already in place.
            continue;
        }
        // Imputed values equal the column mean, so the mean is unchanged.
        let mean = means[j];
        // Scale by the largest deviation before squaring, so that values
        // near f64::MAX still give a finite standard deviation.
        let spread = col.iter().fold(0.0_f64, |m, &x| m.max((x - mean).abs()));
        let var = col
            .iter()
            .map(|&x| ((x - mean) / spread).powi(2))
            .sum::<f64>()
            / n as f64;
        let sd = spread * var.sqrt();
        for (i, &x) in col.iter().enumerate() {
            let v = (x - mean) / sd;
            if !v.is_finite() {
                return Err(SegmentError::UnusableData(format!(
                    "feature {} has values too large to standardise",
                    j + 1
                )));
            }
            z[[i, j]] = v;
        }
    }
    Ok((original, z))
}

/// Distinct rows of `z`, counting no further than `limit`.
fn count_distinct_rows(z: ArrayView2<f64>, limit: usize) -> usize {
    let mut seen = HashSet::new();
    for row in z.rows() {
        // `+ 0.0` turns -0.0 into 0.0 so that both hash alike.
        seen.insert(
            row.iter()
                .map(|v| (v + 0.0).to_bits())
                .collect::<Vec<u64>>(),
        );
        if seen.len() >= limit {
            break;
        }
    }
    seen.len()
}

/// The final state of one run, in linfa's cluster order.
struct Assignment {
    labels: Vec<usize>,
    /// Squared distance of each row to its cluster mean.
    sq_dists: Vec<f64>,
    counts: Vec<usize>,
    /// Cluster means, k × d.
    centroids: Array2<f64>,
    inertia: f64,
}

/// One k-means++ seeded run; `None` if a segment stays empty despite repairs.
fn run_once(
    z: ArrayView2<f64>,
    k: usize,
    rng: Xoshiro256Plus,
    tolerance: f64,
    check: &dyn Fn(),
) -> Result<Option<Assignment>, SegmentError> {
    let data = DatasetBase::from(z);
    // linfa runs all iterations of a run inside one call, which could go on
    // for seconds on a big table without a chance to cancel. So each call
    // does a single Lloyd iteration (the first also does the k-means++
    // seeding), and `check` runs between calls.
    let step = |init: KMeansInit<f64>, rng: Xoshiro256Plus| -> Result<Array2<f64>, SegmentError> {
        let model = KMeans::params_with_rng(k, rng)
            .init_method(init)
            .n_runs(1)
            .max_n_iterations(1)
            .fit(&data)
            .map_err(|e| SegmentError::Internal(format!("k-means failed: {e}")))?;
        Ok(model.centroids().clone())
    };
    let iterate = |mut centroids: Array2<f64>| -> Result<Array2<f64>, SegmentError> {
        for _ in 1..MAX_ITERATIONS {
            check();
            // The generator is unused with precomputed centroids.
            let next = step(
                KMeansInit::Precomputed(centroids.clone()),
                Xoshiro256Plus::seed_from_u64(0),
            )?;
            let shift = (&next - &centroids).mapv(|v| v * v).sum();
            centroids = next;
            if shift <= tolerance {
                break;
            }
        }
        Ok(centroids)
    };

    let mut centroids = iterate(step(KMeansInit::KMeansPlusPlus, rng)?)?;
    for _ in 0..MAX_REPAIRS {
        let a = assign(z, centroids.view());
        if a.counts.iter().all(|&c| c > 0) {
            return Ok(Some(a));
        }
        // Lloyd's algorithm can empty a cluster. Restart each empty one at a
        // row far from its current centroid (farthest first) and iterate on.
        let mut far: Vec<usize> = (0..z.nrows()).collect();
        far.sort_by(|&i, &j| a.sq_dists[j].total_cmp(&a.sq_dists[i]).then(i.cmp(&j)));
        let mut far = far.into_iter();
        centroids = a.centroids;
        for (c, _) in a.counts.iter().enumerate().filter(|(_, &n)| n == 0) {
            if let Some(row) = far.next() {
                centroids.row_mut(c).assign(&z.row(row));
            }
        }
        check();
        centroids = iterate(centroids)?;
    }
    Ok(None)
}

/// Assign every row to its nearest centroid (ties to the lower index), then
/// recompute the centroids as exact means of their rows: linfa's update is
/// damped by the previous centroid, so its centroids are only close to the
/// means. Distances and inertia are taken to those means.
fn assign(z: ArrayView2<f64>, centroids: ArrayView2<f64>) -> Assignment {
    let (n, d) = z.dim();
    let k = centroids.nrows();
    let mut labels = Vec::with_capacity(n);
    for row in z.rows() {
        let mut best = (0, f64::INFINITY);
        for (c, centroid) in centroids.rows().into_iter().enumerate() {
            let dist: f64 = row
                .iter()
                .zip(centroid)
                .map(|(a, b)| (a - b) * (a - b))
                .sum();
            if dist < best.1 {
                best = (c, dist);
            }
        }
        labels.push(best.0);
    }
    let mut counts = vec![0_usize; k];
    let mut means = Array2::<f64>::zeros((k, d));
    for (row, &c) in z.rows().into_iter().zip(&labels) {
        counts[c] += 1;
        let count = counts[c] as f64;
        let mut mean = means.row_mut(c);
        mean.zip_mut_with(&row, |m, &x| *m += (x - *m) / count);
    }
    // An empty cluster keeps its old centroid; the caller repairs it.
    for (c, &count) in counts.iter().enumerate() {
        if count == 0 {
            means.row_mut(c).assign(&centroids.row(c));
        }
    }
    let sq_dists: Vec<f64> = z
        .rows()
        .into_iter()
        .zip(&labels)
        .map(|(row, &c)| {
            row.iter()
                .zip(means.row(c))
                .map(|(a, b)| (a - b) * (a - b))
                .sum()
        })
        .collect();
    let inertia = sq_dists.iter().sum();
    Assignment {
        labels,
        sq_dists,
        counts,
        centroids: means,
        inertia,
    }
}

/// Renumber clusters 1..=k by size, largest first (a stable sort, so equal
/// sizes keep linfa's centroid order), and compute the original-unit profiles.
fn number_segments(a: Assignment, original: ArrayView2<f64>) -> Segmentation {
    let k = a.counts.len();
    let d = original.ncols();
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&x, &y| a.counts[y].cmp(&a.counts[x]));
    let mut rank = vec![0_usize; k];
    for (r, &c) in order.iter().enumerate() {
        rank[c] = r;
    }
    let mut feature_means = vec![vec![0.0_f64; d]; k];
    let mut seen = Array1::<f64>::zeros(k);
    for (row, &c) in original.rows().into_iter().zip(&a.labels) {
        let r = rank[c];
        seen[r] += 1.0;
        for (m, &x) in feature_means[r].iter_mut().zip(row) {
            *m += x / seen[r] - *m / seen[r];
        }
    }
    Segmentation {
        segment: a.labels.iter().map(|&c| rank[c] as u32 + 1).collect(),
        distance: a.sq_dists.iter().map(|v| v.sqrt()).collect(),
        sizes: order.iter().map(|&c| a.counts[c]).collect(),
        centroids: order.iter().map(|&c| a.centroids.row(c).to_vec()).collect(),
        feature_means,
        inertia: a.inertia,
    }
}
