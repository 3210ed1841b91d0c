//! Sales forecasting core of retailml: series preparation, model choice and
//! prediction intervals on top of augurs.
//!
//! The crate never touches Postgres. One call forecasts one series; fitting a
//! few hundred points takes milliseconds, so there is no interrupt callback.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

use augurs::ets::AutoETS;
use augurs::mstl::MSTLModel;
use augurs::seasons::PeriodogramDetector;
use augurs::{Fit, Predict};

pub mod dated;

/// Longest horizon accepted: far beyond any sensible sales forecast, and it
/// keeps a typo from allocating gigabytes inside a database backend.
pub const MAX_HORIZON: usize = 10_000;
/// The longest series one call forecasts: season detection and the fits grow
/// faster than linearly and run without an interrupt check, so a million
/// points would hold a backend for minutes. 100,000 is eleven years hourly.
pub const MAX_SERIES_LEN: usize = 100_000;

/// Why a forecast could not be made. The glue maps each variant to a SQLSTATE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForecastError {
    /// A bad argument (SQLSTATE 22023).
    InvalidParameter(String),
    /// Period stamps with no recognisable frequency (SQLSTATE 22023, with a
    /// hint to pass one: [`dated::FREQUENCY_HINT`]).
    Irregular(String),
    /// The series itself cannot be forecast (SQLSTATE 22000).
    UnusableData(String),
    /// The series is longer than the limit (SQLSTATE 54000).
    TooLong(String),
    /// A library failure that should not happen (SQLSTATE XX000).
    Internal(String),
}

impl fmt::Display for ForecastError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidParameter(m)
            | Self::Irregular(m)
            | Self::UnusableData(m)
            | Self::TooLong(m)
            | Self::Internal(m) => {
                f.write_str(m)
            }
        }
    }
}

impl std::error::Error for ForecastError {}

/// A point forecast with a prediction interval for each future step.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    pub point: Vec<f64>,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
    /// The model that produced the forecast, e.g. `MSTL(12) + AutoETS trend`,
    /// `AutoETS(A,Ad,N)`, `naive` or `naive (constant series)`.
    pub method: String,
    /// The season length the model used; `None` when the model is non-seasonal.
    pub season_length: Option<usize>,
}

/// Forecast `horizon` steps after the end of `series`.
///
/// Input handling:
/// - `None` is a missing value, not a zero. Leading `None`s are dropped,
///   interior ones are linearly interpolated between their neighbours, and
///   trailing ones carry the last value forward. The forecast starts after the
///   last input position, trailing `None`s included, so step 1 of the result
///   is always the period after the last row the caller passed.
/// - NaN or ±Infinity anywhere, an empty series or one with no values at all
///   is [`ForecastError::UnusableData`].
/// - `horizon` must be in `1..=MAX_HORIZON` and `level` strictly inside (0, 1).
/// - `season_length`: `Some(1)` means non-seasonal, `Some(m)` forces period m,
///   `None` detects it (periodogram peak confirmed by an autocorrelation test;
///   only periods of at least 2 that fit two full cycles are accepted).
///
/// Model choice: with a season length above 1 and at least two full seasons,
/// MSTL with a non-seasonal AutoETS trend; otherwise non-seasonal AutoETS.
/// When a series is too short or too degenerate for those (fewer than 7
/// points, a constant series, or a fit that fails), it falls back to a naive
/// forecast (the last value) whose interval comes from the in-sample one-step
/// naive errors widened by sqrt(h); a constant series or a single point gets a
/// zero-width interval, since the data shows no variation to scale one by.
/// The intervals are normal intervals at `level`, from augurs where a model fits.
pub fn forecast(
    series: &[Option<f64>],
    horizon: usize,
    season_length: Option<usize>,
    level: f64,
) -> Result<Forecast, ForecastError> {
    if horizon == 0 || horizon > MAX_HORIZON {
        return Err(ForecastError::InvalidParameter(format!(
            "horizon must be between 1 and {MAX_HORIZON}, got {horizon}"
        )));
    }
    // Written so that a NaN level is rejected too.
    if !(level > 0.0 && level < 1.0) {
        return Err(ForecastError::InvalidParameter(format!(
            "level must be strictly between 0 and 1, got {level}"
        )));
    }
    if season_length == Some(0) {
        return Err(ForecastError::InvalidParameter(
            "season_length must be at least 1".to_string(),
        ));
    }
    let y = prepare(series)?;

    let first = y[0];
    if y.iter().all(|&v| v == first) {
        let method = if y.len() == 1 {
            "naive (single observation)"
        } else {
            "naive (constant series)"
        };
        return Ok(Forecast {
            point: vec![first; horizon],
            lower: vec![first; horizon],
            upper: vec![first; horizon],
            method: method.to_string(),
            season_length: None,
        });
    }

    // Fit on y / max|y| and scale back: augurs' likelihoods square the data
    // (1e300 would overflow) and MSTL decomposes in f32 (range 3.4e38). A pure
    // scale keeps the sign of every value, so the multiplicative-error ETS
    // models stay available for positive series.
    let scale = y.iter().fold(0.0_f64, |a, v| a.max(v.abs()));
    let z: Vec<f64> = y.iter().map(|v| v / scale).collect();

    let period = match season_length {
        Some(m) => m,
        None => detect_season(&z).unwrap_or(1),
    };
    let mut fitted = None;
    if period > 1 && z.len() / 2 >= period {
        fitted = fit_mstl(&z, period, horizon, level);
    }
    if fitted.is_none() {
        fitted = fit_auto_ets(&z, horizon, level);
    }
    let fitted = fitted.unwrap_or_else(|| naive(&z, horizon, level));

    let rescale = |v: &[f64]| -> Vec<f64> {
        v.iter()
            .map(|x| (x * scale).clamp(-f64::MAX, f64::MAX))
            .collect()
    };
    Ok(Forecast {
        point: rescale(&fitted.point),
        lower: rescale(&fitted.lower),
        upper: rescale(&fitted.upper),
        method: fitted.method,
        season_length: fitted.season_length,
    })
}

/// Symmetric MAPE in percent: the mean over steps of 200·|y−f|/(|y|+|f|),
/// where a step with both values zero counts as 0 (a perfect forecast).
/// Pairs up the two slices to the shorter length; NaN when there is no pair.
pub fn smape(actual: &[f64], forecast: &[f64]) -> f64 {
    let n = actual.len().min(forecast.len());
    if n == 0 {
        return f64::NAN;
    }
    let total: f64 = actual
        .iter()
        .zip(forecast)
        .map(|(&y, &f)| {
            let denom = y.abs() + f.abs();
            if denom == 0.0 {
                0.0
            } else {
                200.0 * (y - f).abs() / denom
            }
        })
        .sum();
    total / n as f64
}

/// Validate and fill the series as documented on [`forecast`].
fn prepare(series: &[Option<f64>]) -> Result<Vec<f64>, ForecastError> {
    if series.is_empty() {
        return Err(ForecastError::UnusableData("series is empty".to_string()));
    }
    if series.len() > MAX_SERIES_LEN {
        return Err(ForecastError::TooLong(format!(
            "series has {} values, the limit is {MAX_SERIES_LEN}",
            series.len()
        )));
    }
    for (i, v) in series.iter().enumerate() {
        if let Some(x) = v {
            if !x.is_finite() {
                let what = if x.is_nan() { "NaN" } else { "infinite" };
                return Err(ForecastError::UnusableData(format!(
                    "series value at position {} is {what}",
                    i + 1
                )));
            }
        }
    }
    let Some(start) = series.iter().position(Option::is_some) else {
        return Err(ForecastError::UnusableData(
            "series has only null values".to_string(),
        ));
    };
    let series = &series[start..];
    let mut out = Vec::with_capacity(series.len());
    // Index into `series` and value of the last known point.
    let mut prev: (usize, f64) = (0, 0.0);
    for (i, v) in series.iter().enumerate() {
        if let Some(x) = *v {
            let (pi, pv) = prev;
            // Fill the gap (pi, i) on the line between the two known points.
            for j in pi + 1..i {
                let t = (j - pi) as f64 / (i - pi) as f64;
                out.push(pv + (x - pv) * t);
            }
            out.push(x);
            prev = (i, x);
        }
    }
    // Trailing nulls: carry the last value forward.
    out.resize(series.len(), prev.1);
    Ok(out)
}

/// Find a season length in `z`, or `None` when there is no convincing one.
///
/// augurs' periodogram uses power-of-two FFT segments, so its peaks are
/// coarse (on 96 monthly points a 12-month cycle shows up as "10"). Each peak
/// (strongest first) therefore only marks a range of periods, between its
/// neighbouring periodogram bins; within it we take the lag with the highest
/// autocorrelation. And since a periodogram always has a highest peak, even
/// for white noise, that lag must also pass the classic seasonality test (90%
/// one-sided, Bartlett's variance, as in the M4 competition benchmarks).
/// Both run after removing a least-squares line, so that a trend does not
/// pose as a long period.
fn detect_season(z: &[f64]) -> Option<usize> {
    let n = z.len();
    // Two full cycles of the shortest period (2) and a few points more: the
    // spectral estimate is meaningless below that.
    if n < 8 {
        return None;
    }
    let d = detrend(z);
    let longest = n / 2;
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
    z.iter()
        .enumerate()
        .map(|(t, &v)| v - z_mean - slope * (t as f64 - t_mean))
        .collect()
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

/// r_m > 1.645·sqrt((1 + 2·Σ_{k<m} r_k²) / n): the autocorrelation at the
/// season lag is significantly positive.
fn seasonality_test(acf: &[f64], m: usize, n: usize) -> bool {
    let Some(&r_m) = acf.get(m) else {
        return false;
    };
    let var = 1.0 + 2.0 * acf[1..m].iter().map(|r| r * r).sum::<f64>();
    r_m > 1.645 * (var / n as f64).sqrt()
}

/// A forecast in the scaled space, before multiplying back.
struct Fitted {
    point: Vec<f64>,
    lower: Vec<f64>,
    upper: Vec<f64>,
    method: String,
    season_length: Option<usize>,
}

impl Fitted {
    /// Turn an augurs forecast into a `Fitted`, refusing anything the caller
    /// should not see: missing intervals, wrong lengths, non-finite numbers
    /// (which augurs produces, for instance, from a degenerate variance).
    fn from_augurs(
        f: augurs::Forecast,
        horizon: usize,
        method: String,
        season_length: Option<usize>,
    ) -> Option<Fitted> {
        let intervals = f.intervals?;
        let ok = f.point.len() == horizon
            && intervals.lower.len() == horizon
            && intervals.upper.len() == horizon
            && f.point
                .iter()
                .chain(&intervals.lower)
                .chain(&intervals.upper)
                .all(|v| v.is_finite());
        ok.then_some(Fitted {
            point: f.point,
            lower: intervals.lower,
            upper: intervals.upper,
            method,
            season_length,
        })
    }
}

// augurs has `todo!()`/`unwrap()` paths (interval formulas for some model
// classes, a sort on NaN). The inputs we pass should never reach them, but a
// panic inside a database backend is never acceptable, so every library call
// is wrapped and a panic just means "try the next, simpler model".

fn fit_mstl(z: &[f64], period: usize, horizon: usize, level: f64) -> Option<Fitted> {
    let result = catch_unwind(AssertUnwindSafe(|| {
        let model = MSTLModel::new(vec![period], AutoETS::non_seasonal().into_trend_model());
        model.fit(z).ok()?.predict(horizon, level).ok()
    }))
    .ok()??;
    Fitted::from_augurs(
        result,
        horizon,
        format!("MSTL({period}) + AutoETS trend"),
        Some(period),
    )
}

fn fit_auto_ets(z: &[f64], horizon: usize, level: f64) -> Option<Fitted> {
    let (result, method) = catch_unwind(AssertUnwindSafe(|| {
        let fitted = AutoETS::non_seasonal().fit(z).ok()?;
        let model = fitted.model();
        let kind = model.model_type();
        let damped = if model.damped() { "d" } else { "" };
        let method = format!(
            "AutoETS({},{}{damped},{})",
            kind.error, kind.trend, kind.season
        );
        Some((fitted.predict(horizon, level).ok()?, method))
    }))
    .ok()??;
    Fitted::from_augurs(result, horizon, method, None)
}

/// Last value, with the interval of a random walk whose step variance is the
/// mean squared one-step change seen in the data.
fn naive(z: &[f64], horizon: usize, level: f64) -> Fitted {
    let last = z[z.len() - 1];
    let steps = z.len() - 1;
    let sigma = if steps == 0 {
        0.0
    } else {
        (z.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum::<f64>() / steps as f64).sqrt()
    };
    let q = normal_quantile(0.5 + level / 2.0);
    let width = |h: usize| q * sigma * (h as f64).sqrt();
    Fitted {
        point: vec![last; horizon],
        lower: (1..=horizon).map(|h| last - width(h)).collect(),
        upper: (1..=horizon).map(|h| last + width(h)).collect(),
        method: "naive".to_string(),
        season_length: None,
    }
}

/// Inverse of the standard normal CDF for p in (0, 1): Acklam's rational
/// approximation (relative error below 1.2e-9), ample for interval widths.
fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e+01,
        2.209460984245205e+02,
        -2.759285104469687e+02,
        1.38357751867269e+02,
        -3.066479806614716e+01,
        2.506628277459239e+00,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e+01,
        1.615858368580409e+02,
        -1.556989798598866e+02,
        6.680131188771972e+01,
        -1.328068155288572e+01,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-03,
        -3.223964580411365e-01,
        -2.400758277161838e+00,
        -2.549732539343734e+00,
        4.374664141464968e+00,
        2.938163982698783e+00,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-03,
        3.224671290700398e-01,
        2.445134137142996e+00,
        3.754408661907416e+00,
    ];
    const P_LOW: f64 = 0.02425;
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < P_LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - P_LOW {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepare_fills_gaps() {
        let s = [None, Some(1.0), None, None, Some(4.0), None];
        assert_eq!(prepare(&s).unwrap(), vec![1.0, 2.0, 3.0, 4.0, 4.0]);
    }

    #[test]
    fn normal_quantile_matches_tables() {
        assert!((normal_quantile(0.975) - 1.959963985).abs() < 1e-8);
        assert!((normal_quantile(0.5)).abs() < 1e-12);
        assert!((normal_quantile(0.005) + 2.575829304).abs() < 1e-8);
    }

    #[test]
    fn detects_a_clear_season_and_not_noise() {
        let seasonal: Vec<f64> = (0..96)
            .map(|t| 10.0 + (t as f64 * std::f64::consts::TAU / 12.0).sin() + 0.01 * t as f64)
            .collect();
        assert_eq!(detect_season(&seasonal), Some(12));
        // A deterministic pseudo-random walk has no season.
        let mut x = 0.0_f64;
        let mut state = 12345_u64;
        let walk: Vec<f64> = (0..96)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                x += (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                x
            })
            .collect();
        assert_eq!(detect_season(&walk), None);
    }
}
