//! Forecast accuracy, as the M competitions score it.

/// Symmetric MAPE in percent: the mean over steps of 200·|y−f|/(|y|+|f|),
/// where a step with both values zero counts as 0 (a perfect forecast).
/// Pairs up the two slices to the shorter length; NaN when there is no pair.
pub fn smape(actual: &[f64], forecast: &[f64]) -> f64 {
    mean(actual.iter().zip(forecast).map(|(&y, &f)| {
        let denom = y.abs() + f.abs();
        if denom == 0.0 {
            0.0
        } else {
            200.0 * (y - f).abs() / denom
        }
    }))
}

/// Mean absolute error over the horizon divided by the in-sample MAE of the
/// seasonal naive forecast with lag `season` (lag 1 when the history is no
/// longer than a season). `None` when that scale is 0 or undefined (a flat or
/// one-point history), where MASE means nothing.
pub fn mase(history: &[f64], actual: &[f64], forecast: &[f64], season: usize) -> Option<f64> {
    let lag = if season >= 1 && history.len() > season { season } else { 1 };
    let scale = mean((lag..history.len()).map(|t| (history[t] - history[t - lag]).abs()));
    if scale.is_nan() || scale <= 0.0 {
        return None;
    }
    let error = mean(actual.iter().zip(forecast).map(|(y, f)| (y - f).abs()));
    error.is_finite().then_some(error / scale)
}

/// The share of steps whose actual value lies inside [lower, upper]; NaN
/// when there is no step.
pub fn coverage(actual: &[f64], lower: &[f64], upper: &[f64]) -> f64 {
    mean(
        actual
            .iter()
            .zip(lower.iter().zip(upper))
            .map(|(y, (lo, hi))| if lo <= y && y <= hi { 1.0 } else { 0.0 }),
    )
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, count) = values.fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
    if count == 0 {
        f64::NAN
    } else {
        sum / count as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions() {
        assert_eq!(smape(&[0.0, 100.0], &[0.0, 100.0]), 0.0);
        assert_eq!(smape(&[100.0], &[0.0]), 200.0);
        assert!(smape(&[], &[]).is_nan());
        // Seasonal naive MAE of [1,2,3,2,3,4] at lag 3 is 1.
        assert_eq!(mase(&[1.0, 2.0, 3.0, 2.0, 3.0, 4.0], &[5.0], &[3.0], 3), Some(2.0));
        assert_eq!(mase(&[2.0, 2.0], &[5.0], &[3.0], 1), None);
        assert_eq!(coverage(&[1.0, 5.0], &[0.0, 0.0], &[2.0, 2.0]), 0.5);
    }
}
