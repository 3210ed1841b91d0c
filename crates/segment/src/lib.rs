//! Customer segmentation core of retailml: encoding the feature columns
//! ([`features`]), seeded k-means, choosing k, scoring and profiles.
//!
//! The crate never touches Postgres. The long loop takes a `check` callback
//! that the glue wires to Postgres' interrupt check.
//!
//! The k-means is our own (it replaced linfa's, which took 22.9 s against
//! scikit-learn's 6.3 s on the synthetic table with 1.061× its inertia):
//! greedy k-means++ seeding, then Lloyd passes over fixed row blocks with a
//! fixed-width distance kernel in f32 (measured against f64 at `Work`).
//!
//! Measured side by side in one process run (2026-12-03, 2 threads, a
//! machine shared with other builds, so each figure is the median of 3
//! alternating runs): a Python script times scikit-learn 1.9.1
//! `StandardScaler` + `KMeans(init='k-means++', n_init=10, random_state=0)`,
//! then standardising and `segment()` with [`DEFAULT_SEED`] on the same
//! values (measured before standardising moved to [`features`]; the work is
//! the same), then `retailml-bench segment rows.jsonl K`
//! (its second call); inertia is recomputed for both from the labels in
//! scikit-learn's standardised matrix.
//!
//! | data | scikit-learn s | `segment()` s | retailml-bench s | inertia ratio |
//! |---|---|---|---|---|
//! | CDNOW RFM 23,570 × 3, k = 5 | 0.40 | 0.11 | 0.07 | 0.99998 |
//! | synthetic 1,000,000 × 16, k = 8 | 8.18 | 3.34 | 3.15 | 1.00000 |
//!
//! On 1 thread each (`OMP_NUM_THREADS=1 RAYON_NUM_THREADS=1`), same
//! script: CDNOW 0.13 / 0.09 / 0.10 s, synthetic 12.40 / 8.41 / 6.88 s
//! (scikit-learn / `segment()` / retailml-bench), same inertia ratios.

use std::collections::HashSet;
use std::fmt;

use std::ops::{Add, Mul, Sub};

use rand_xoshiro::rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256Plus;
use rayon::prelude::*;

pub mod choose_k;
pub mod features;
pub mod model;
pub mod profile;

/// k-means++ restarts; the best (lowest inertia) run wins.
pub const N_RUNS: usize = 10;
/// Lloyd iterations per run at most.
pub const MAX_ITERATIONS: usize = 300;
/// A run has converged when the squared centroid movement of an iteration,
/// summed over all centroids, is at most this fraction of the mean feature
/// variance (scikit-learn's definition). An absolute bound on the movement
/// keeps uniform-ish data creeping for hundreds of iterations
/// with no visible change in the segments.
pub const TOLERANCE: f64 = 1e-4;
/// The most segments one call makes. Segments are for people to read, and
/// each Lloyd iteration is O(n·k·d) between two interrupt checks.
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
    /// Per row, Euclidean distance to its segment centroid.
    pub distance: Vec<f64>,
    /// Per segment (index 0 = segment 1), the number of rows.
    pub sizes: Vec<usize>,
    /// Per segment, the centroid (mean of its rows).
    pub centroids: Vec<Vec<f64>>,
    /// Total within-segment sum of squared distances.
    pub inertia: f64,
}

/// Split the `x.len() / d` rows of `x` (row-major, `d` wide, in the model
/// space of [`features`]) into `k` segments with k-means.
///
/// - No rows or `d = 0` is [`SegmentError::UnusableData`], and so is a NaN
///   or infinite value.
/// - `k` must be in 1..=rows, and the rows must contain at least `k` distinct
///   points (otherwise some segment would have to be empty).
/// - Greedy k-means++ seeding, [`N_RUNS`] runs, at most [`MAX_ITERATIONS`]
///   Lloyd iterations each, stopping when the centroids move less than
///   [`TOLERANCE`] allows; the run with the lowest inertia wins. The same
///   `seed` and input always give the same result, whatever the thread count.
///
/// `check` is called on the calling thread before every iteration (each is
/// one pass over the data, seeding a centre included), so the glue can raise
/// a Postgres interrupt there. The passes run on the current rayon pool.
pub fn segment(
    x: &[f64],
    d: usize,
    k: usize,
    seed: u64,
    check: &dyn Fn(),
) -> Result<Segmentation, SegmentError> {
    if k > MAX_K {
        return Err(SegmentError::InvalidParameter(format!(
            "k must be at most {MAX_K}, got {k}"
        )));
    }
    if d == 0 {
        return Err(SegmentError::UnusableData(
            "rows have no features".to_string(),
        ));
    }
    let n = x.len() / d;
    if n == 0 {
        return Err(SegmentError::UnusableData(
            "there are no rows to segment".to_string(),
        ));
    }
    if x.iter().any(|v| !v.is_finite()) {
        return Err(SegmentError::UnusableData(
            "a feature value is NaN or infinite".to_string(),
        ));
    }
    if k == 0 || k > n {
        return Err(SegmentError::InvalidParameter(format!(
            "k must be between 1 and the number of rows ({n}), got {k}"
        )));
    }
    let distinct = count_distinct(x.chunks_exact(d).map(|r| r.iter().copied()), k);
    if distinct < k {
        return Err(SegmentError::InvalidParameter(format!(
            "k ({k}) exceeds the number of distinct rows ({distinct})"
        )));
    }

    // Standardised columns have variance 1, so this is about 1 for
    // [`features`]' matrices; the bound stays relative for any other.
    let mean_variance = column_variances(x, d).iter().sum::<f64>() / d as f64;
    let tolerance = TOLERANCE * mean_variance;

    // The working copy; if f32 merges rows that f64 keeps apart, f32 could
    // not make k non-empty segments, so the passes stay in f64.
    let work: Vec<Work> = x.iter().map(|&v| Work::from_f64(v)).collect();
    let narrow = count_distinct(
        work.chunks_exact(d).map(|r| r.iter().map(|v| v.to_f64())),
        k,
    ) == k;

    // One generator, jumped ahead 2^128 steps per run: independent streams
    // that depend only on `seed`.
    let mut master = Xoshiro256Plus::seed_from_u64(seed);
    let mut best: Option<Assignment> = None;
    for _ in 0..N_RUNS {
        check();
        let rng = master.clone();
        master.jump();
        let run = if narrow {
            run_once(&work, x, d, k, rng, tolerance, check)
        } else {
            run_once(x, x, d, k, rng, tolerance, check)
        };
        if let Some(run) = run {
            if best.as_ref().is_none_or(|b| run.inertia < b.inertia) {
                best = Some(run);
            }
        }
    }
    let best = best.ok_or_else(|| {
        SegmentError::Internal("k-means left a segment empty in every run".to_string())
    })?;
    Ok(number_segments(best, d))
}

/// Population variance of each column of `x` (row-major, `d` wide).
fn column_variances(x: &[f64], d: usize) -> Vec<f64> {
    let n = (x.len() / d) as f64;
    let mut mean = vec![0.0; d];
    for row in x.chunks_exact(d) {
        mean.iter_mut().zip(row).for_each(|(m, v)| *m += v / n);
    }
    let mut var = vec![0.0; d];
    for row in x.chunks_exact(d) {
        var.iter_mut()
            .zip(row.iter().zip(&mean))
            .for_each(|(s, (v, m))| *s += (v - m) * (v - m) / n);
    }
    var
}

/// Distinct rows, counting no further than `limit`.
fn count_distinct<R: Iterator<Item = f64>>(rows: impl Iterator<Item = R>, limit: usize) -> usize {
    let mut seen = HashSet::new();
    for row in rows {
        // `+ 0.0` turns -0.0 into 0.0 so that both hash alike.
        seen.insert(row.map(|v| (v + 0.0).to_bits()).collect::<Vec<u64>>());
        if seen.len() >= limit {
            break;
        }
    }
    seen.len()
}

/// Rows per parallel block. Fixed, so that every sum is taken over the same
/// blocks in the same order whatever the thread count.
const BLOCK: usize = 4096;

/// The float type of the seeding and Lloyd distance passes. The final
/// assignment, centroids, distances and inertia are always f64. Measured on
/// the synthetic 1,000,000 × 16 table, k = 8, 2 threads, the two builds run
/// alternately: f32 3.84 / 4.32 / 4.69 s, f64 5.51 / 6.07 / 6.30 s, the same
/// segments and inertia (1,913,118.09) from both. Half the bytes per pass.
type Work = f32;

/// The two float types a distance pass can run in.
trait Real:
    Copy + Send + Sync + PartialOrd + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self>
{
    const ZERO: Self;
    const INFINITY: Self;
    fn from_f64(v: f64) -> Self;
    fn to_f64(self) -> f64;
}

impl Real for f32 {
    const ZERO: Self = 0.0;
    const INFINITY: Self = f32::INFINITY;
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

impl Real for f64 {
    const ZERO: Self = 0.0;
    const INFINITY: Self = f64::INFINITY;
    fn from_f64(v: f64) -> Self {
        v
    }
    fn to_f64(self) -> f64 {
        self
    }
}

/// Points per group in the distance kernel: 8 f32 lanes fill an AVX
/// register (two SSE ones), and a fixed width lets the compiler unroll and
/// vectorise the lane loop whatever k is.
const LANES: usize = 8;

/// `points` (m × d, row-major) as ⌈m / LANES⌉ groups of d lane arrays
/// (coordinate j of the group's points together). Lanes past m are +∞, so
/// they are never nearest.
fn grouped<T: Real>(points: &[f64], d: usize) -> Vec<[T; LANES]> {
    let m = points.len() / d;
    let mut out = vec![[T::INFINITY; LANES]; m.div_ceil(LANES) * d];
    for (c, point) in points.chunks_exact(d).enumerate() {
        for (j, &v) in point.iter().enumerate() {
            out[(c / LANES) * d + j][c % LANES] = T::from_f64(v);
        }
    }
    out
}

/// Squared distances from `x` to each point of `groups` (see [`grouped`])
/// into `out` (LANES per group). Each lane has its own sum, so the
/// vectorised loop reorders no addition.
#[inline(always)]
fn sq_dists_to<T: Real>(x: &[T], groups: &[[T; LANES]], out: &mut [T]) {
    for (group, out) in groups
        .chunks_exact(x.len())
        .zip(out.chunks_exact_mut(LANES))
    {
        let mut acc = [T::ZERO; LANES];
        for (&xj, c) in x.iter().zip(group) {
            for l in 0..LANES {
                let diff = xj - c[l];
                acc[l] = acc[l] + diff * diff;
            }
        }
        out.copy_from_slice(&acc);
    }
}

/// The work of one row block in a distance pass.
trait Block {
    type Out;
    /// `#[inline(always)]` in every impl, so that [`simd`] compiles it into
    /// its AVX2 body.
    fn run(self) -> Self::Out;
}

/// Runs `block` compiled for AVX2 when the CPU has it. No FMA, and each
/// lane keeps its own sums, so both paths give the same bits.
#[inline(always)]
fn simd<B: Block>(block: B) -> B::Out {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        #[target_feature(enable = "avx2")]
        fn avx2<B: Block>(block: B) -> B::Out {
            block.run()
        }
        // SAFETY: the CPU has AVX2.
        return unsafe { avx2(block) };
    }
    block.run()
}

/// Index and value of the smallest entry, ties to the lower index.
#[inline(always)]
fn nearest<T: Real>(dists: &[T]) -> (usize, T) {
    let mut best = (0, dists[0]);
    for (c, &v) in dists.iter().enumerate().skip(1) {
        if v < best.1 {
            best = (c, v);
        }
    }
    best
}

/// Per-cluster coordinate sums (k × d) and row counts.
struct Sums {
    sums: Vec<f64>,
    counts: Vec<usize>,
}

impl Sums {
    fn zeros(k: usize, d: usize) -> Self {
        Sums {
            sums: vec![0.0; k * d],
            counts: vec![0; k],
        }
    }
}

/// One Lloyd assignment pass: the nearest centroid of every row into
/// `labels`, and the per-cluster sums of the rows, reduced in block order.
fn lloyd_pass<T: Real>(x: &[T], d: usize, centroids: &[f64], labels: &mut [u32]) -> Sums {
    let k = centroids.len() / d;
    let ct = grouped::<T>(centroids, d);
    let parts: Vec<Sums> = x
        .par_chunks(BLOCK * d)
        .zip(labels.par_chunks_mut(BLOCK))
        .map(|(rows, labels)| {
            simd(LloydBlock {
                rows,
                labels,
                ct: &ct,
                k,
                d,
            })
        })
        .collect();
    let mut total = Sums::zeros(k, d);
    for part in parts {
        total
            .sums
            .iter_mut()
            .zip(&part.sums)
            .for_each(|(t, s)| *t += s);
        total
            .counts
            .iter_mut()
            .zip(&part.counts)
            .for_each(|(t, c)| *t += c);
    }
    total
}

/// One block of [`lloyd_pass`].
struct LloydBlock<'a, T> {
    rows: &'a [T],
    labels: &'a mut [u32],
    ct: &'a [[T; LANES]],
    k: usize,
    d: usize,
}

impl<T: Real> Block for LloydBlock<'_, T> {
    type Out = Sums;
    #[inline(always)]
    fn run(self) -> Sums {
        let (k, d) = (self.k, self.d);
        let mut part = Sums::zeros(k, d);
        let mut dists = vec![T::ZERO; k.next_multiple_of(LANES)];
        for (row, label) in self.rows.chunks_exact(d).zip(self.labels) {
            sq_dists_to(row, self.ct, &mut dists);
            let c = nearest(&dists).0;
            *label = c as u32;
            part.counts[c] += 1;
            for (s, &v) in part.sums[c * d..(c + 1) * d].iter_mut().zip(row) {
                *s += v.to_f64();
            }
        }
        part
    }
}

/// One block of the candidate pass of [`seed_centres`]: each row's squared
/// distance to each candidate into `out`, and per candidate the potential
/// of the block were it chosen.
struct CandidateBlock<'a, T> {
    rows: &'a [T],
    closest: &'a [T],
    out: &'a mut [T],
    ct: &'a [[T; LANES]],
    trials: usize,
    d: usize,
}

impl<T: Real> Block for CandidateBlock<'_, T> {
    type Out = Vec<f64>;
    #[inline(always)]
    fn run(self) -> Vec<f64> {
        let width = self.out.len() / self.closest.len();
        let mut pots = vec![0.0; self.trials];
        for ((r, &best), dists) in self
            .rows
            .chunks_exact(self.d)
            .zip(self.closest)
            .zip(self.out.chunks_exact_mut(width))
        {
            sq_dists_to(r, self.ct, dists);
            for (p, &v) in pots.iter_mut().zip(&dists[..self.trials]) {
                *p += if v < best { v } else { best }.to_f64();
            }
        }
        pots
    }
}

/// Cluster means from `sums`; an empty cluster keeps its old centroid (the
/// caller repairs it once the run has converged).
fn means(sums: &Sums, old: &[f64], d: usize) -> Vec<f64> {
    let mut next = old.to_vec();
    for (c, &count) in sums.counts.iter().enumerate().filter(|(_, &n)| n > 0) {
        for (m, s) in next[c * d..(c + 1) * d].iter_mut().zip(&sums.sums[c * d..]) {
            *m = s / count as f64;
        }
    }
    next
}

/// A uniform number in [0, 1).
fn uniform(rng: &mut Xoshiro256Plus) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// The row where the running sum of `weights` first exceeds `r`, walking the
/// block sums first. Rows of weight 0 (a chosen centre) are never picked;
/// if rounding leaves `r` beyond the total, the last row of positive weight.
fn sample<T: Real>(weights: &[T], block_sums: &[f64], r: f64) -> usize {
    // (block, running sum before it, whether the sum crosses `r` in it)
    let mut found = (0, 0.0, false);
    let mut before = 0.0;
    for (b, &s) in block_sums.iter().enumerate() {
        if s > 0.0 {
            found = (b, before, before + s > r);
            if found.2 {
                break;
            }
        }
        before += s;
    }
    let (block, mut acc, crosses) = found;
    let start = block * BLOCK;
    let mut last = start;
    for (i, &w) in weights[start..].iter().take(BLOCK).enumerate() {
        let w = w.to_f64();
        if w > 0.0 {
            last = start + i;
            acc += w;
            if crosses && acc > r {
                break;
            }
        }
    }
    last
}

/// `closest` lowered to `dist(i)` for every row i; returns the sum of
/// `closest` per block.
fn lower_closest<T: Real>(closest: &mut [T], dist: impl Fn(usize) -> T + Sync) -> Vec<f64> {
    closest
        .par_chunks_mut(BLOCK)
        .enumerate()
        .map(|(b, closest)| {
            let mut sum = 0.0;
            for (i, best) in closest.iter_mut().enumerate() {
                let v = dist(b * BLOCK + i);
                if v < *best {
                    *best = v;
                }
                sum += best.to_f64();
            }
            sum
        })
        .collect()
}

/// Greedy k-means++ seeding (Arthur & Vassilvitskii 2007, with
/// scikit-learn's greedy variant): each centre after the first draws
/// 2 + ⌊ln k⌋ candidates with probability proportional to the squared
/// distance to the nearest centre so far, and keeps the candidate that
/// lowers the total of those distances (the potential) most. Plain k-means++
/// is `trials = 1`.
fn seed_centres<T: Real>(
    x: &[T],
    d: usize,
    k: usize,
    trials: usize,
    rng: &mut Xoshiro256Plus,
    check: &dyn Fn(),
) -> Vec<f64> {
    let n = x.len() / d;
    let row = |i: usize| x[i * d..(i + 1) * d].iter().map(|v| v.to_f64());
    let first = ((u128::from(rng.next_u64()) * n as u128) >> 64) as usize;
    let mut centres: Vec<f64> = row(first).collect();
    let mut closest = vec![T::INFINITY; n];
    let mut block_sums = lower_closest(&mut closest, |i| {
        let r = &x[i * d..(i + 1) * d];
        r.iter()
            .zip(&x[first * d..])
            .fold(T::ZERO, |s, (&a, &b)| s + (a - b) * (a - b))
    });
    let mut candidates = Vec::with_capacity(trials * d);
    // Each row's squared distance to each candidate, `width` a row.
    let width = trials.next_multiple_of(LANES);
    let mut to_candidates = vec![T::ZERO; n * width];
    for _ in 1..k {
        check();
        let potential: f64 = block_sums.iter().sum();
        let picks: Vec<usize> = (0..trials)
            .map(|_| sample(&closest, &block_sums, uniform(rng) * potential))
            .collect();
        candidates.clear();
        picks.iter().for_each(|&i| candidates.extend(row(i)));
        let ct = grouped::<T>(&candidates, d);
        let parts: Vec<Vec<f64>> = x
            .par_chunks(BLOCK * d)
            .zip(closest.par_chunks(BLOCK))
            .zip(to_candidates.par_chunks_mut(BLOCK * width))
            .map(|((rows, closest), out)| {
                simd(CandidateBlock {
                    rows,
                    closest,
                    out,
                    ct: &ct,
                    trials,
                    d,
                })
            })
            .collect();
        let mut pots = vec![0.0; trials];
        for part in &parts {
            pots.iter_mut().zip(part).for_each(|(p, v)| *p += v);
        }
        let t = nearest(&pots).0;
        block_sums = lower_closest(&mut closest, |i| to_candidates[i * width + t]);
        centres.extend(row(picks[t]));
    }
    centres
}

/// Candidates per greedy k-means++ centre, scikit-learn's 2 + ⌊ln k⌋.
fn greedy_trials(k: usize) -> usize {
    2 + (k as f64).ln() as usize
}

/// The final state of one run, in seeding order.
struct Assignment {
    labels: Vec<u32>,
    /// Squared distance of each row to its cluster mean.
    sq_dists: Vec<f64>,
    counts: Vec<usize>,
    /// Cluster means, k × d.
    centroids: Vec<f64>,
    inertia: f64,
}

/// One seeded run; `None` if a segment stays empty despite repairs. `x` is
/// the standardised matrix `z` (row-major) in the working precision.
fn run_once<T: Real>(
    x: &[T],
    z: &[f64],
    d: usize,
    k: usize,
    mut rng: Xoshiro256Plus,
    tolerance: f64,
    check: &dyn Fn(),
) -> Option<Assignment> {
    let centroids = seed_centres(x, d, k, greedy_trials(k), &mut rng, check);
    refine(x, z, d, centroids, tolerance, check)
}

/// Lloyd iterations from `centroids` until converged, with empty clusters
/// repaired; `None` if a cluster stays empty after [`MAX_REPAIRS`] repairs.
fn refine<T: Real>(
    x: &[T],
    z: &[f64],
    d: usize,
    centroids: Vec<f64>,
    tolerance: f64,
    check: &dyn Fn(),
) -> Option<Assignment> {
    let mut labels = vec![0_u32; z.len() / d];
    let mut iterate = |mut centroids: Vec<f64>| {
        for _ in 0..MAX_ITERATIONS {
            check();
            let sums = lloyd_pass(x, d, &centroids, &mut labels);
            let next = means(&sums, &centroids, d);
            let shift: f64 = next
                .iter()
                .zip(&centroids)
                .map(|(a, b)| (a - b) * (a - b))
                .sum();
            centroids = next;
            if shift <= tolerance {
                break;
            }
        }
        centroids
    };

    let mut centroids = iterate(centroids);
    for _ in 0..MAX_REPAIRS {
        let a = assign(z, d, &centroids);
        if a.counts.iter().all(|&c| c > 0) {
            return Some(a);
        }
        // Lloyd's algorithm can empty a cluster. Restart each empty one at a
        // row far from its current centroid (farthest first) and iterate on.
        let mut far: Vec<usize> = (0..a.labels.len()).collect();
        far.sort_by(|&i, &j| a.sq_dists[j].total_cmp(&a.sq_dists[i]).then(i.cmp(&j)));
        let mut far = far.into_iter();
        centroids = a.centroids;
        for (c, _) in a.counts.iter().enumerate().filter(|(_, &n)| n == 0) {
            if let Some(row) = far.next() {
                centroids[c * d..(c + 1) * d].copy_from_slice(&z[row * d..(row + 1) * d]);
            }
        }
        check();
        centroids = iterate(centroids);
    }
    None
}

/// Assign every row to its nearest centroid in f64 (ties to the lower
/// index), then recompute the centroids as exact means of their rows, so
/// that distances and inertia are to the means whatever the working
/// precision of the iterations was.
fn assign(z: &[f64], d: usize, centroids: &[f64]) -> Assignment {
    let mut labels = vec![0_u32; z.len() / d];
    let sums = lloyd_pass(z, d, centroids, &mut labels);
    let means = means(&sums, centroids, d);
    let sq_dists: Vec<f64> = z
        .par_chunks(d)
        .zip(&labels)
        .map(|(row, &c)| {
            let c = c as usize;
            row.iter()
                .zip(&means[c * d..(c + 1) * d])
                .map(|(a, b)| (a - b) * (a - b))
                .sum()
        })
        .collect();
    let inertia = sq_dists.iter().sum();
    Assignment {
        labels,
        sq_dists,
        counts: sums.counts,
        centroids: means,
        inertia,
    }
}

/// Renumber clusters 1..=k by size, largest first (a stable sort, so equal
/// sizes keep the seeding order).
fn number_segments(a: Assignment, d: usize) -> Segmentation {
    let k = a.counts.len();
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&x, &y| a.counts[y].cmp(&a.counts[x]));
    let mut rank = vec![0_usize; k];
    for (r, &c) in order.iter().enumerate() {
        rank[c] = r;
    }
    Segmentation {
        segment: a
            .labels
            .iter()
            .map(|&c| rank[c as usize] as u32 + 1)
            .collect(),
        distance: a.sq_dists.iter().map(|v| v.sqrt()).collect(),
        sizes: order.iter().map(|&c| a.counts[c]).collect(),
        centroids: order
            .iter()
            .map(|&c| a.centroids[c * d..(c + 1) * d].to_vec())
            .collect(),
        inertia: a.inertia,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three tight blobs of `size` rows in 2 dimensions, row-major.
    fn blobs(size: usize) -> Vec<f64> {
        let mut rng = Xoshiro256Plus::seed_from_u64(1);
        let mut z = Vec::new();
        for (cx, cy) in [(0.0, 0.0), (10.0, 0.0), (0.0, 10.0)] {
            for _ in 0..size {
                z.push(cx + uniform(&mut rng));
                z.push(cy + uniform(&mut rng));
            }
        }
        z
    }

    #[test]
    fn greedy_seeding_beats_plain_on_average() {
        // Uniform data with many clusters, where plain k-means++ often
        // places two centres close together.
        let mut rng = Xoshiro256Plus::seed_from_u64(9);
        let z: Vec<f64> = (0..3 * 5000).map(|_| uniform(&mut rng)).collect();
        let potential = |trials: usize| -> f64 {
            (0..20)
                .map(|s| {
                    let mut rng = Xoshiro256Plus::seed_from_u64(s);
                    let c = seed_centres(&z, 3, 20, trials, &mut rng, &|| {});
                    assign(&z, 3, &c).inertia
                })
                .sum::<f64>()
        };
        let (plain, greedy) = (potential(1), potential(greedy_trials(20)));
        assert!(greedy < 0.95 * plain, "greedy {greedy}, plain {plain}");
    }

    #[test]
    fn simd_and_portable_passes_agree_bit_for_bit() {
        let mut rng = Xoshiro256Plus::seed_from_u64(4);
        let (d, k) = (7, 13);
        let x: Vec<f32> = (0..d * 3000).map(|_| uniform(&mut rng) as f32).collect();
        let centroids: Vec<f64> = (0..d * k).map(|_| uniform(&mut rng)).collect();
        let ct = grouped::<f32>(&centroids, d);
        let (mut a, mut b) = (vec![0_u32; 3000], vec![0_u32; 3000]);
        let block = |labels| LloydBlock {
            rows: &x,
            labels,
            ct: &ct,
            k,
            d,
        };
        let fast = simd(block(&mut a));
        let plain = block(&mut b).run();
        assert_eq!(a, b);
        assert_eq!(fast.counts, plain.counts);
        let bits = |s: &Sums| s.sums.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&fast), bits(&plain));
    }

    #[test]
    fn empty_cluster_is_repaired() {
        let z = blobs(200);
        // The third centroid is far from every row, so the first pass
        // leaves it empty.
        let start = vec![0.5, 0.5, 10.5, 5.0, 1000.0, 1000.0];
        let a = refine(&z, &z, 2, start, 1e-12, &|| {}).expect("repaired");
        let mut sizes = a.counts.clone();
        sizes.sort_unstable();
        assert_eq!(sizes, vec![200, 200, 200]);
        // Each blob is one cluster.
        for blob in a.labels.chunks(200) {
            assert!(blob.iter().all(|&l| l == blob[0]), "{blob:?}");
        }
    }

    #[test]
    fn sampling_skips_zero_weights_and_rounding() {
        let w = [0.0_f64, 2.0, 0.0, 3.0, 0.0];
        let sums = [5.0];
        assert_eq!(sample(&w, &sums, 4.99), 3);
        assert_eq!(sample(&w, &sums, 0.0), 1);
        assert_eq!(sample(&w, &sums, 1.99), 1);
        assert_eq!(sample(&w, &sums, 2.0), 3);
        // Beyond the total (rounding): the last row of positive weight.
        assert_eq!(sample(&w, &sums, 5.0), 3);
    }
}
