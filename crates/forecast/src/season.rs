//! Finding seasons and taking them out of a series.
//!
//! A season is used only when the data shows it ([`confirmed`]): the
//! autocorrelation at its lag, after the local level is taken out, must be
//! significantly positive, and a longer second cycle must carry a clear
//! share of the variance in an STL fit.

use std::panic::catch_unwind;

use augurs::seasons::PeriodogramDetector;

/// Fewest full cycles a season needs before it is tested and used: the
/// classical decomposition's centred moving average and STL both need two
/// (requiring three measured slightly worse on M1 and Tourism).
pub const MIN_CYCLES: usize = 2;

/// STL seasonal strength a longer season needs, 1 − Var(remainder) /
/// Var(season + remainder). The autocorrelation test cannot confirm a long
/// smooth cycle (a yearly wave in daily sales): Bartlett's variance sums
/// the squared autocorrelations of every shorter lag, which such a wave keeps
/// high. Measured on 3 years of days: pure noise and a random walk score
/// 0.32–0.37 at 365, a yearly wave of amplitude 30 over noise of 10 scores
/// 0.99, one of 10 over noise of 40 scores 0.56.
const MIN_LONG_SEASON_STRENGTH: f64 = 0.6;

/// The candidates, shortest first, that `z` shows. Each must fit
/// [`MIN_CYCLES`] cycles. The shortest must pass [`seasonality_test`]; each
/// longer one must reach [`MIN_LONG_SEASON_STRENGTH`] in an MSTL fit beside
/// the seasons confirmed before it.
pub fn confirmed(z: &[f64], candidates: &[usize]) -> Vec<usize> {
    let mut fitting: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|&m| m >= 2 && z.len() / MIN_CYCLES >= m)
        .collect();
    fitting.sort_unstable();
    fitting.dedup();
    let Some((&shortest, longer)) = fitting.split_first() else {
        return Vec::new();
    };
    // Tested on the series minus its local level (its centred moving average
    // over one cycle), so that a wandering level, whose autocorrelation is
    // high at every lag, does not pass for a season.
    let local_level = centred_moving_average(z, shortest);
    let d: Vec<f64> = z
        .iter()
        .zip(&local_level)
        .filter_map(|(v, c)| c.map(|c| v - c))
        .collect();
    let mut seasons: Vec<usize> = Vec::new();
    if d.len() > shortest && seasonality_test(&autocorrelations(&d, shortest), shortest, d.len()) {
        seasons.push(shortest);
    }
    for &m in longer {
        let mut trial = seasons.clone();
        trial.push(m);
        if stl_strength(z, &trial).is_some_and(|s| s >= MIN_LONG_SEASON_STRENGTH) {
            seasons.push(m);
        }
    }
    seasons
}

/// The STL seasonal strength of the last of `seasons` in an MSTL fit of all.
fn stl_strength(z: &[f64], seasons: &[usize]) -> Option<f64> {
    catch_unwind(|| stlrs::Mstl::params().fit(z, seasons).ok())
        .ok()
        .flatten()
        .and_then(|fit| fit.seasonal_strength().last().copied())
}

/// Find a season length in `z`, or `None` when there is no convincing one.
///
/// augurs' periodogram uses power-of-two FFT segments, so its peaks are
/// coarse (on 96 monthly points a 12-month cycle shows up as "10"). Each peak
/// (strongest first) therefore only marks a range of periods, between its
/// neighbouring periodogram bins; within it we take the lag with the highest
/// autocorrelation, which must then pass [`seasonality_test`] (a periodogram
/// always has a highest peak, even for white noise).
pub fn detect(z: &[f64]) -> Option<usize> {
    let n = z.len();
    let longest = n / MIN_CYCLES;
    if longest < 2 {
        return None;
    }
    let d = detrend(z);
    let max_period = u32::try_from(longest).unwrap_or(u32::MAX);
    let ranges: Vec<(usize, usize)> = catch_unwind(|| {
        let periodogram = PeriodogramDetector::builder()
            .min_period(2)
            .max_period(max_period)
            .build()
            .periodogram(&d);
        let mut peaks: Vec<_> = periodogram.peaks(0.5).collect();
        peaks.sort_by(|a, b| b.power.total_cmp(&a.power));
        peaks
            .iter()
            .take(3)
            .map(|p| {
                // Bins are listed longest period first; 0 marks "no neighbour".
                let hi = if p.prev_period == 0 {
                    longest
                } else {
                    p.prev_period as usize - 1
                };
                let lo = if p.next_period == 0 {
                    2
                } else {
                    p.next_period as usize + 1
                };
                (lo.max(2), hi.min(longest))
            })
            .collect()
    })
    .ok()?;
    let acf = autocorrelations(&d, longest);
    ranges.into_iter().find_map(|(lo, hi)| {
        let lag = (lo..=hi)
            .filter(|&l| l < acf.len())
            .max_by(|&a, &b| acf[a].total_cmp(&acf[b]))?;
        seasonality_test(&acf, lag, n).then_some(lag)
    })
}

/// Residuals of `z` from its least-squares line.
fn detrend(z: &[f64]) -> Vec<f64> {
    let (intercept, slope) = least_squares_line(z);
    z.iter()
        .enumerate()
        .map(|(t, &v)| v - intercept - slope * t as f64)
        .collect()
}

/// (intercept, slope) of the least-squares line through (t, z[t]), t = 0, 1, ….
pub fn least_squares_line(z: &[f64]) -> (f64, f64) {
    let n = z.len() as f64;
    let t_mean = (n - 1.0) / 2.0;
    let z_mean = z.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (t, &v) in z.iter().enumerate() {
        let dt = t as f64 - t_mean;
        sxy += dt * (v - z_mean);
        sxx += dt * dt;
    }
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    (z_mean - slope * t_mean, slope)
}

/// Sample autocorrelations r_0..=r_max_lag (r_0 = 1); all zero for a flat input.
fn autocorrelations(d: &[f64], max_lag: usize) -> Vec<f64> {
    let n = d.len();
    let mean = d.iter().sum::<f64>() / n as f64;
    let c0: f64 = d.iter().map(|v| (v - mean).powi(2)).sum();
    (0..=max_lag.min(n - 1))
        .map(|k| {
            if c0 <= 0.0 {
                return 0.0;
            }
            let ck: f64 = (0..n - k).map(|t| (d[t] - mean) * (d[t + k] - mean)).sum();
            ck / c0
        })
        .collect()
}

/// One-sided 80% normal quantile. The M4 benchmarks test at 90% (1.645) on
/// the raw series; on the series minus its local level, M1 and Tourism
/// forecast better the more readily a season is taken out (sMAPE on M1:
/// 16.58 at 90%, 16.36 at 80%, 16.11 at 69%), and 80% is the conventional
/// level nearest to where the gains flatten.
const SEASONALITY_QUANTILE: f64 = 1.282;

/// r_m > q·sqrt((1 + 2·Σ_{k<m} r_k²) / n), q = [`SEASONALITY_QUANTILE`]: the
/// autocorrelation at the season lag is significantly positive.
fn seasonality_test(acf: &[f64], m: usize, n: usize) -> bool {
    let Some(&r_m) = acf.get(m) else {
        return false;
    };
    let var = 1.0 + 2.0 * acf[1..m].iter().map(|r| r * r).sum::<f64>();
    r_m > SEASONALITY_QUANTILE * (var / n as f64).sqrt()
}

/// The seasonal part of a series, as taken out before a non-seasonal model
/// fits it and put back on the forecast.
#[derive(Debug, Clone, PartialEq)]
pub enum Adjustment {
    /// Classical decomposition by ratios to a centred moving average; one
    /// index per position in the cycle, averaging 1. Used for one season on a
    /// positive series.
    Multiplicative { indices: Vec<f64> },
    /// Additive components, one per season: a classical decomposition by
    /// differences for one season on a series that is not all positive, STL
    /// (MSTL) otherwise. Each holds a value for every input point.
    Additive { components: Vec<(usize, Vec<f64>)> },
}

impl Adjustment {
    /// Classical decomposition of `z` with season `m` (needs `z.len() >= 2m`):
    /// multiplicative when every value is positive, additive otherwise.
    pub fn classical(z: &[f64], m: usize) -> Adjustment {
        let multiplicative = z.iter().all(|&v| v > 0.0);
        let trend = centred_moving_average(z, m);
        let mut sums = vec![0.0; m];
        let mut counts = vec![0usize; m];
        for (t, c) in trend.iter().enumerate() {
            if let Some(c) = c {
                sums[t % m] += if multiplicative { z[t] / c } else { z[t] - c };
                counts[t % m] += 1;
            }
        }
        let mut means: Vec<f64> = sums
            .iter()
            .zip(&counts)
            .map(|(s, &c)| if c == 0 { 0.0 } else { s / c as f64 })
            .collect();
        let centre = means.iter().sum::<f64>() / m as f64;
        if multiplicative {
            means.iter_mut().for_each(|v| *v /= centre);
            Adjustment::Multiplicative { indices: means }
        } else {
            means.iter_mut().for_each(|v| *v -= centre);
            let component = (0..z.len()).map(|t| means[t % m]).collect();
            Adjustment::Additive {
                components: vec![(m, component)],
            }
        }
    }

    /// STL components for each of `seasons` (each needs `z.len() >= 2m`), in
    /// f64 throughout; `None` when STL refuses the series.
    pub fn stl(z: &[f64], seasons: &[usize]) -> Option<Adjustment> {
        let fit = catch_unwind(|| stlrs::Mstl::params().fit(z, seasons).ok())
            .ok()
            .flatten()?;
        let (components, _, _) = fit.into_parts();
        let ok = components.iter().flatten().all(|v| v.is_finite());
        ok.then(|| Adjustment::Additive {
            components: seasons.iter().copied().zip(components).collect(),
        })
    }

    /// `z` with the season taken out.
    pub fn adjust(&self, z: &[f64]) -> Vec<f64> {
        z.iter()
            .enumerate()
            .map(|(t, &v)| match self {
                Self::Multiplicative { indices } => v / indices[t % indices.len()],
                Self::Additive { components } => {
                    v - components.iter().map(|(_, c)| c[t]).sum::<f64>()
                }
            })
            .collect()
    }

    /// The season put back on a forecast of the adjusted series; `n` is the
    /// input length, so step h (0-based) is position n + h.
    pub fn restore(&self, n: usize, values: &mut [f64]) {
        for (h, v) in values.iter_mut().enumerate() {
            match self {
                Self::Multiplicative { indices } => *v *= indices[(n + h) % indices.len()],
                Self::Additive { components } => {
                    for (m, c) in components {
                        // The last full cycle, repeated.
                        *v += c[c.len() - m + (h % m)];
                    }
                }
            }
        }
    }

    /// The seasonal part at every input position (for decomposition output).
    pub fn in_sample(&self, n: usize) -> Vec<f64> {
        (0..n)
            .map(|t| match self {
                Self::Multiplicative { indices } => indices[t % indices.len()],
                Self::Additive { components } => components.iter().map(|(_, c)| c[t]).sum(),
            })
            .collect()
    }
}

/// The centred moving average of order m (2×m when m is even); `None` where
/// the window runs off either end.
fn centred_moving_average(z: &[f64], m: usize) -> Vec<Option<f64>> {
    let n = z.len();
    let half = m / 2;
    (0..n)
        .map(|t| {
            if t < half || t + half >= n {
                return None;
            }
            let window = &z[t - half..=t + half];
            Some(if m % 2 == 1 {
                window.iter().sum::<f64>() / m as f64
            } else {
                let inner: f64 = window[1..m].iter().sum();
                (inner + 0.5 * (window[0] + window[m])) / m as f64
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seasonal(n: usize, m: usize) -> Vec<f64> {
        (0..n)
            .map(|t| 10.0 + (t as f64 * std::f64::consts::TAU / m as f64).sin() + 0.01 * t as f64)
            .collect()
    }

    /// A deterministic pseudo-random walk of `n` steps.
    fn random_walk(n: usize, seed: u64) -> Vec<f64> {
        let mut state = seed;
        let mut x = 0.0;
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                x += (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                x
            })
            .collect()
    }

    #[test]
    fn detects_a_clear_season_and_not_noise() {
        assert_eq!(detect(&seasonal(96, 12)), Some(12));
        // A deterministic pseudo-random walk has no season.
        let walk = random_walk(96, 12345);
        assert_eq!(detect(&walk), None);
        assert!(confirmed(&walk, &[12]).is_empty());
    }

    #[test]
    fn confirms_only_the_seasons_present() {
        let z = seasonal(96, 12);
        assert_eq!(confirmed(&z, &[12, 7, 40]), vec![12]);
        // Three years of a daily random walk: neither a week nor a year.
        let walk = random_walk(1095, 7);
        assert!(confirmed(&walk, &[7, 365]).is_empty());
    }

    #[test]
    fn classical_indices_recover_a_multiplicative_season() {
        let pattern = [0.8, 1.0, 1.2, 1.0];
        let z: Vec<f64> = (0..40).map(|t| 100.0 * pattern[t % 4]).collect();
        let Adjustment::Multiplicative { indices } = Adjustment::classical(&z, 4) else {
            panic!("positive data gives a multiplicative decomposition");
        };
        for (i, p) in indices.iter().zip(pattern) {
            assert!((i - p).abs() < 1e-12, "{indices:?}");
        }
        let adjusted = Adjustment::classical(&z, 4).adjust(&z);
        assert!(adjusted.iter().all(|v| (v - 100.0).abs() < 1e-9));
    }

    #[test]
    fn additive_restore_repeats_the_last_cycle() {
        let z: Vec<f64> = (0..12).map(|t| [-1.0, 0.0, 1.0][t % 3]).collect();
        let adj = Adjustment::classical(&z, 3);
        let mut f = vec![0.0; 4];
        adj.restore(z.len(), &mut f);
        assert_eq!(f, vec![-1.0, 0.0, 1.0, -1.0]);
    }
}
