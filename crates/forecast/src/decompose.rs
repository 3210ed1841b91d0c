//! Decomposition of a series into trend, seasonal and remainder parts, so an
//! analyst can see what a forecast builds on (BigQuery's ML.EXPLAIN_FORECAST).
//!
//! The decomposition is additive and exact: for every period, trend plus
//! seasonal plus remainder is the (filled) series value, because the
//! remainder is defined as what the other two leave. Seasons are tested as [`crate::forecast`]
//! tests them ([`season::confirmed`]); the confirmed ones are taken out by
//! STL (MSTL for several, in f64 throughout) and `seasonal` is their sum.
//! With no season, `seasonal` is 0 and the trend is the least-squares line:
//! it needs no window to choose and covers every period, where a moving
//! average would lose half a window at each end.

use std::panic::catch_unwind;

use crate::dated::{regularize, Fill, Frequency, Regular, Stamp};
use crate::season::{self, least_squares_line};
use crate::{prepare, ForecastError};

/// Trend, seasonal and remainder parts, one value per period from the
/// series' first known value on.
#[derive(Debug, Clone, PartialEq)]
pub struct Decomposition {
    /// Index into the input of the first value decomposed: leading unknown
    /// values are dropped, as [`crate::forecast`] drops them.
    pub start: usize,
    pub trend: Vec<f64>,
    pub seasonal: Vec<f64>,
    pub remainder: Vec<f64>,
    /// The seasons taken out, shortest first; empty when none.
    pub seasons: Vec<usize>,
    /// Why no season was taken out, when none was.
    pub notice: Option<String>,
}

/// Decompose `series` (`None` is missing and filled as [`crate::forecast`]
/// fills it). `season_length`: `Some(1)` no season, `Some(m)` test a cycle
/// of m periods, `None` detect one by periodogram.
pub fn decompose(series: &[Option<f64>], season_length: Option<usize>) -> Result<Decomposition, ForecastError> {
    decompose_with_candidates(series, season_length, &[])
}

/// [`decompose`], testing `candidates` when no season_length is given (with
/// none, a season is detected by periodogram).
pub(crate) fn decompose_with_candidates(
    series: &[Option<f64>],
    season_length: Option<usize>,
    candidates: &[usize],
) -> Result<Decomposition, ForecastError> {
    if season_length == Some(0) {
        return Err(ForecastError::InvalidParameter(
            "season_length must be at least 1".to_string(),
        ));
    }
    let y = prepare(series)?;
    let start = series.iter().position(Option::is_some).unwrap_or(0);
    // Test and fit on y / max|y| (as forecast does) so that huge values
    // cannot overflow STL's weights; scaled back, the loss is an ulp.
    let scale = y.iter().fold(0.0_f64, |a, v| a.max(v.abs()));
    let scale = if scale > 0.0 { scale } else { 1.0 };
    let z: Vec<f64> = y.iter().map(|v| v / scale).collect();

    let tested: Vec<usize> = match season_length {
        Some(m) => vec![m],
        None if !candidates.is_empty() => candidates.to_vec(),
        None => season::detect(&z).into_iter().collect(),
    };
    let seasons = season::confirmed(&z, &tested);
    let fit = if seasons.is_empty() { None } else { stl(&z, &seasons) };

    let (trend, seasonal, seasons, notice) = match fit {
        Some((trend, seasonal)) => (trend, seasonal, seasons, None),
        None => {
            let (intercept, slope) = least_squares_line(&z);
            let trend = (0..z.len()).map(|t| intercept + slope * t as f64).collect();
            let why = if !seasons.is_empty() {
                "STL could not decompose the series"
            } else if tested.iter().all(|&m| m < 2) {
                "no season asked for"
            } else if tested.iter().all(|&m| m < 2 || z.len() / season::MIN_CYCLES < m) {
                &format!("the series holds fewer than {} cycles of its season", season::MIN_CYCLES)
            } else {
                "no season found in the data"
            };
            let notice = format!("{why}: seasonal is 0 and the trend is the least-squares line");
            (trend, vec![0.0; z.len()], Vec::new(), Some(notice))
        }
    };
    let trend: Vec<f64> = trend.iter().map(|v| v * scale).collect();
    let seasonal: Vec<f64> = seasonal.iter().map(|v| v * scale).collect();
    let remainder = y
        .iter()
        .zip(trend.iter().zip(&seasonal))
        .map(|(v, (t, s))| v - t - s)
        .collect();
    Ok(Decomposition {
        start,
        trend,
        seasonal,
        remainder,
        seasons,
        notice,
    })
}

/// STL's trend and the sum of its seasonal components; `None` when STL
/// refuses the series. Called directly rather than through
/// [`season::Adjustment::stl`], which keeps only the seasonal parts.
fn stl(z: &[f64], seasons: &[usize]) -> Option<(Vec<f64>, Vec<f64>)> {
    let fit = catch_unwind(|| stlrs::Mstl::params().fit(z, seasons).ok())
        .ok()
        .flatten()?;
    let (components, trend, _) = fit.into_parts();
    let seasonal: Vec<f64> = (0..z.len())
        .map(|t| components.iter().map(|c| c[t]).sum())
        .collect();
    let finite = trend.iter().chain(&seasonal).all(|v| v.is_finite());
    finite.then_some((trend, seasonal))
}

/// A dated decomposition: the frequency used and the stamp of every
/// decomposed period.
#[derive(Debug, Clone, PartialEq)]
pub struct DatedDecomposition {
    pub frequency: Frequency,
    /// On the UTC timeline for hourly series, on the wall clock otherwise;
    /// `periods[i]` is the period of `decomposition.trend[i]`.
    pub periods: Vec<i64>,
    pub decomposition: Decomposition,
}

/// [`regularize`], then [`decompose`], testing the frequency's natural
/// cycles unless `season_length` names one.
pub fn decompose_dated(
    periods: &[Option<Stamp>],
    values: &[Option<f64>],
    season_length: Option<usize>,
    frequency: Option<Frequency>,
    fill: Fill,
) -> Result<DatedDecomposition, ForecastError> {
    let regular = regularize(periods, values, frequency, fill)?;
    let decomposition =
        decompose_with_candidates(&regular.values, season_length, regular.frequency.season_candidates())?;
    let mut periods = in_sample_periods(&regular)?;
    periods.drain(..decomposition.start);
    Ok(DatedDecomposition {
        frequency: regular.frequency,
        periods,
        decomposition,
    })
}

/// The stamp of every period of `regular`: its grid is private to `dated`,
/// but the "future" of the same grid with no values yet is exactly them.
pub(crate) fn in_sample_periods(regular: &Regular) -> Result<Vec<i64>, ForecastError> {
    let mut empty = regular.clone();
    empty.values.clear();
    empty.future(regular.values.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_reconstructs(series: &[f64], d: &Decomposition) {
        assert_eq!(d.trend.len(), series.len());
        for (i, &y) in series.iter().enumerate() {
            let sum = d.trend[i] + d.seasonal[i] + d.remainder[i];
            assert!((sum - y).abs() <= 1e-6 * y.abs().max(1.0), "{i}: {sum} vs {y}");
        }
    }

    fn some(v: &[f64]) -> Vec<Option<f64>> {
        v.iter().copied().map(Some).collect()
    }

    #[test]
    fn recovers_a_clear_season() {
        let pattern = [-3.0, -1.0, 0.0, 1.0, 3.0, 0.0];
        let y: Vec<f64> = (0..60).map(|t| 50.0 + 0.5 * t as f64 + pattern[t % 6]).collect();
        let d = decompose(&some(&y), None).unwrap();
        assert_eq!(d.seasons, vec![6]);
        assert_eq!(d.notice, None);
        assert_reconstructs(&y, &d);
        // Away from the ends STL's trend is the line and the season the pattern.
        for t in 12..48 {
            assert!((d.seasonal[t] - pattern[t % 6]).abs() < 0.1, "{t}: {}", d.seasonal[t]);
            assert!((d.trend[t] - (50.0 + 0.5 * t as f64)).abs() < 0.1, "{t}: {}", d.trend[t]);
        }
    }

    #[test]
    fn keeps_f64_precision_in_the_hundreds_of_millions() {
        // ±1 on 3e8: f32 steps by 32 there, so any f32 stage would lose the season.
        let pattern = [1.0, -1.0, 0.5, -0.5];
        let y: Vec<f64> = (0..80).map(|t| 3.0e8 + pattern[t % 4]).collect();
        let d = decompose(&some(&y), Some(4)).unwrap();
        assert_eq!(d.seasons, vec![4]);
        assert_reconstructs(&y, &d);
        for (t, &y) in y.iter().enumerate() {
            let sum = d.trend[t] + d.seasonal[t] + d.remainder[t];
            assert!(((sum - y) / y).abs() < 1e-6);
            assert!((d.seasonal[t] - pattern[t % 4]).abs() < 0.05, "{t}: {}", d.seasonal[t]);
        }
    }

    #[test]
    fn no_season_gives_the_least_squares_line() {
        let y: Vec<f64> = (0..20).map(|t| 2.0 * t as f64 + if t % 2 == 0 { 1.0 } else { -1.0 }).collect();
        let d = decompose(&some(&y), Some(1)).unwrap();
        assert!(d.seasons.is_empty());
        assert!(d.seasonal.iter().all(|&s| s == 0.0));
        assert_eq!(
            d.notice.as_deref(),
            Some("no season asked for: seasonal is 0 and the trend is the least-squares line")
        );
        let (a, b) = least_squares_line(&y);
        for (t, v) in d.trend.iter().enumerate() {
            assert!((v - (a + b * t as f64)).abs() < 1e-9);
        }
        assert_reconstructs(&y, &d);
        // A season asked for that has fewer than three cycles says so.
        let short = decompose(&some(&y), Some(12)).unwrap();
        assert!(short.notice.unwrap().starts_with("the series holds fewer than"));
    }

    #[test]
    fn fills_gaps_and_drops_leading_unknowns() {
        let s = [None, None, Some(1.0), None, Some(3.0), Some(4.0)];
        let d = decompose(&s, None).unwrap();
        assert_eq!(d.start, 2);
        assert_reconstructs(&[1.0, 2.0, 3.0, 4.0], &d);
        assert!(matches!(decompose(&[None], None), Err(ForecastError::UnusableData(_))));
        assert!(matches!(decompose(&s, Some(0)), Err(ForecastError::InvalidParameter(_))));
    }

    #[test]
    fn dated_periods_follow_the_grid() {
        const DAY: i64 = 86_400_000_000;
        // Four weeks of days, busier at weekends, the first value unknown.
        let periods: Vec<Option<Stamp>> = (0..28).map(|d| Some(Stamp::naive(d * DAY))).collect();
        let mut values: Vec<Option<f64>> = (0..28).map(|d| Some(if d % 7 >= 5 { 160.0 } else { 100.0 })).collect();
        values[0] = None;
        let d = decompose_dated(&periods, &values, None, None, Fill::Zero).unwrap();
        assert_eq!(d.frequency, Frequency::Daily);
        assert_eq!(d.decomposition.seasons, vec![7]);
        assert_eq!(d.periods, (1..28).map(|k| k * DAY).collect::<Vec<_>>());
        assert_eq!(d.decomposition.trend.len(), 27);
    }
}
