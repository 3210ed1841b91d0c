//! The single forecasting models, each on a scaled, season-adjusted (where
//! the caller adjusts) series, each with a normal prediction interval.

use crate::season::{least_squares_line, Adjustment};

/// A forecast in the scaled space, before multiplying back.
#[derive(Debug, Clone)]
pub struct Fitted {
    pub point: Vec<f64>,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
    pub method: String,
}

impl Fitted {
    /// A symmetric interval of half-width `width(h)` (h from 1) around `point`.
    fn symmetric(point: Vec<f64>, width: impl Fn(usize) -> f64, method: String) -> Fitted {
        let lower = point.iter().enumerate().map(|(i, p)| p - width(i + 1)).collect();
        let upper = point.iter().enumerate().map(|(i, p)| p + width(i + 1)).collect();
        Fitted {
            point,
            lower,
            upper,
            method,
        }
    }

    fn is_finite(&self) -> bool {
        self.point
            .iter()
            .chain(&self.lower)
            .chain(&self.upper)
            .all(|v| v.is_finite())
    }
}

/// Fit `model` to `z` with `adjustment`'s season taken out, then put the
/// season back on the forecast and its interval.
pub fn adjusted(
    z: &[f64],
    adjustment: Option<&Adjustment>,
    model: impl FnOnce(&[f64]) -> Option<Fitted>,
) -> Option<Fitted> {
    let Some(adjustment) = adjustment else {
        return model(z);
    };
    let mut f = model(&adjustment.adjust(z))?;
    adjustment.restore(z.len(), &mut f.point);
    adjustment.restore(z.len(), &mut f.lower);
    adjustment.restore(z.len(), &mut f.upper);
    f.is_finite().then_some(f)
}

/// Last value, with the interval of a random walk whose step variance is the
/// mean squared one-step change seen in the data.
pub fn naive(z: &[f64], horizon: usize, quantile: f64) -> Fitted {
    let last = z[z.len() - 1];
    let sigma = root_mean_square(z.windows(2).map(|w| w[1] - w[0]));
    Fitted::symmetric(
        vec![last; horizon],
        |h| quantile * sigma * (h as f64).sqrt(),
        "naive".to_string(),
    )
}

/// The last full season repeated; the interval grows with the number of
/// seasons ahead. Needs more than one season of data.
pub fn seasonal_naive(z: &[f64], m: usize, horizon: usize, quantile: f64) -> Option<Fitted> {
    let n = z.len();
    if m < 2 || n <= m {
        return None;
    }
    let point = (0..horizon).map(|h| z[n - m + h % m]).collect();
    let sigma = root_mean_square((m..n).map(|t| z[t] - z[t - m]));
    Some(Fitted::symmetric(
        point,
        |h| quantile * sigma * (((h - 1) / m + 1) as f64).sqrt(),
        format!("seasonal naive({m})"),
    ))
}

/// The Theta method of Assimakopoulos and Nikolopoulos (2000), in the form
/// of Hyndman and Billah (2003): simple exponential smoothing plus a drift of
/// half the least-squares slope. The smoothing weight and the initial level
/// minimise the in-sample squared one-step errors; the interval is that of
/// simple exponential smoothing. Needs 3 points.
pub fn theta(z: &[f64], horizon: usize, quantile: f64) -> Option<Fitted> {
    let n = z.len();
    if n < 3 {
        return None;
    }
    let ses = Ses::fit(z);
    let (_, slope) = least_squares_line(z);
    let drift = slope / 2.0;
    let a = ses.alpha;
    let tail = (1.0 - (1.0 - a).powi(n as i32)) / a;
    let point = (0..horizon)
        .map(|h| ses.level + drift * (h as f64 + tail))
        .collect();
    // Two parameters fitted (the weight and the initial level).
    let sigma = (ses.sse / (n - 2) as f64).sqrt();
    let f = Fitted::symmetric(
        point,
        |h| quantile * sigma * (1.0 + a * a * (h - 1) as f64).sqrt(),
        "Theta".to_string(),
    );
    f.is_finite().then_some(f)
}

/// Simple exponential smoothing fitted by least squares.
pub(crate) struct Ses {
    pub alpha: f64,
    /// The level after the last point.
    pub level: f64,
    /// Sum of squared one-step errors.
    pub sse: f64,
}

impl Ses {
    /// The one-step forecast of point t is A_t + (1-α)^t·ℓ₀, linear in the
    /// initial level ℓ₀, so for each α the best ℓ₀ has a closed form and only
    /// α is searched: a grid, then golden-section search around its best.
    pub(crate) fn fit(z: &[f64]) -> Ses {
        use crate::ets::{HIGH, LOW};
        const GRID: usize = 20;
        let step = (HIGH - LOW) / GRID as f64;
        let best = (0..=GRID)
            .map(|i| LOW + step * i as f64)
            .min_by(|&a, &b| Ses::at(z, a).sse.total_cmp(&Ses::at(z, b).sse))
            .expect("grid is not empty");
        let (mut lo, mut hi) = ((best - step).max(LOW), (best + step).min(HIGH));
        let ratio = (5f64.sqrt() - 1.0) / 2.0;
        for _ in 0..30 {
            let x1 = hi - ratio * (hi - lo);
            let x2 = lo + ratio * (hi - lo);
            if Ses::at(z, x1).sse <= Ses::at(z, x2).sse {
                hi = x2;
            } else {
                lo = x1;
            }
        }
        let refined = Ses::at(z, (lo + hi) / 2.0);
        let grid_best = Ses::at(z, best);
        if refined.sse <= grid_best.sse {
            refined
        } else {
            grid_best
        }
    }

    fn at(z: &[f64], alpha: f64) -> Ses {
        let s = crate::ets::Smoothing {
            alpha,
            beta: 0.0,
            phi: 1.0,
        };
        let p = crate::ets::profile::<false>(z, s);
        Ses {
            alpha,
            level: p.level,
            sse: p.sse,
        }
    }
}

/// Non-seasonal AutoETS: the best of the error, trend and damping
/// combinations by AICc (our own, in `ets`: augurs' was 6x slower).
pub use crate::ets::auto_ets;

fn root_mean_square(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, count) = values.fold((0.0, 0usize), |(s, c), v| (s + v * v, c + 1));
    if count == 0 {
        0.0
    } else {
        (sum / count as f64).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ses_recovers_the_level_of_a_constant_series() {
        let z = [5.0; 20];
        let s = Ses::fit(&z);
        assert!((s.level - 5.0).abs() < 1e-9);
        assert!(s.sse < 1e-12);
    }

    #[test]
    fn theta_on_a_line_continues_it_at_half_slope_plus_level() {
        let z: Vec<f64> = (0..30).map(|t| 10.0 + 2.0 * t as f64).collect();
        let f = theta(&z, 3, 1.96).unwrap();
        // SES tracks a line with α near 1; the drift then adds slope/2 per step.
        assert!(f.point[0] > z[29] && f.point[0] < z[29] + 3.0, "{:?}", f.point);
        assert!((f.point[1] - f.point[0] - 1.0).abs() < 1e-9);
    }

    #[test]
    fn seasonal_naive_repeats_the_last_season() {
        let z = [1.0, 2.0, 3.0, 1.5, 2.5, 3.5];
        let f = seasonal_naive(&z, 3, 4, 1.96).unwrap();
        assert_eq!(f.point, vec![1.5, 2.5, 3.5, 1.5]);
        let w = |i: usize| f.upper[i] - f.point[i];
        assert!((w(3) / w(0) - 2f64.sqrt()).abs() < 1e-12);
        assert!(seasonal_naive(&z, 6, 4, 1.96).is_none());
    }
}
