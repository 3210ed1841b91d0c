//! Rolling-origin evaluation: how the forecast would have scored on the
//! caller's own history, so it can be checked before it is trusted.
//!
//! With `folds` folds of `horizon` points, fold `folds` holds out the last
//! `horizon` points and fold 1 the earliest block; each fold forecasts from
//! everything before its held-out block (the same options as
//! [`crate::forecast`]) and scores that block with [`crate::accuracy`].

use crate::accuracy::{coverage, mase, smape};
use crate::dated::{regularize, Fill, Frequency, Stamp};
use crate::decompose::in_sample_periods;
use crate::{forecast_with_candidates, prepare, ForecastError, Options};

/// Fewest known-or-filled points a fold trains on: two are the least any
/// method (and the MASE scale) can use.
pub const MIN_TRAINING: usize = 2;
/// Most folds one call runs: each is a full forecast with no interrupt
/// check inside, and a hundred origins are plenty to judge a method.
pub const MAX_FOLDS: usize = 100;
/// Most held-out points in all (folds × horizon), the forecast's own
/// horizon limit, so that a typo cannot hold a backend for long.
pub const MAX_HELD_OUT: usize = crate::MAX_HORIZON;

/// The score of one fold.
#[derive(Debug, Clone, PartialEq)]
pub struct Fold {
    /// 1 for the earliest origin, `folds` for the latest.
    pub fold: usize,
    /// Index into the input series of the fold's last training point.
    pub origin: usize,
    /// sMAPE in percent over the held-out points with a known value; `None`
    /// when none has one.
    pub smape: Option<f64>,
    /// Mean absolute error over the in-sample seasonal-naive MAE of the
    /// training data (the forecast's shortest season, or lag 1); `None` when
    /// that scale is 0 or there is no known held-out value.
    pub mase: Option<f64>,
    /// Share of known held-out values inside [lower, upper].
    pub coverage: Option<f64>,
    /// [`crate::Forecast::method`] of the fold's forecast.
    pub method: String,
    /// [`crate::Forecast::notice`] of the fold's forecast.
    pub notice: Option<String>,
}

/// Backtest `series` (`None` is missing: filled in the training part as
/// [`crate::forecast`] fills it, left out of the scores in the held-out part).
/// `check` runs before each fold (the glue passes the interrupt check).
pub fn backtest(
    series: &[Option<f64>],
    options: &Options,
    folds: usize,
    check: &dyn Fn(),
) -> Result<Vec<Fold>, ForecastError> {
    backtest_with_candidates(series, options, folds, &[], check)
}

/// [`backtest`], testing `candidates` when no season_length is given.
pub(crate) fn backtest_with_candidates(
    series: &[Option<f64>],
    options: &Options,
    folds: usize,
    candidates: &[usize],
    check: &dyn Fn(),
) -> Result<Vec<Fold>, ForecastError> {
    options.validate()?;
    if folds == 0 {
        return Err(ForecastError::InvalidParameter("folds must be at least 1".to_string()));
    }
    if folds > MAX_FOLDS {
        return Err(ForecastError::TooLong(format!(
            "folds {folds} is above the limit of {MAX_FOLDS}"
        )));
    }
    let held_out = folds * options.horizon;
    if held_out > MAX_HELD_OUT {
        return Err(ForecastError::TooLong(format!(
            "folds × horizon is {held_out}, above the limit of {MAX_HELD_OUT}"
        )));
    }
    // Validates the values (NaN, all null, length) once for every fold.
    let known = prepare(series)?.len();
    let start = series.len() - known;
    let needed = held_out + MIN_TRAINING;
    if known < needed {
        return Err(ForecastError::UnusableData(format!(
            "{folds} folds of horizon {} need at least {needed} points from the first non-null value \
             ({MIN_TRAINING} to train on before the first fold), the series has {known}",
            options.horizon
        )));
    }

    (1..=folds)
        .map(|fold| {
            check();
            // Index of the fold's first held-out point.
            let cut = series.len() - (folds - fold + 1) * options.horizon;
            let training = &series[start..cut];
            let f = forecast_with_candidates(training, options, candidates)?;
            let history = prepare(training)?;
            // Score only the held-out points with a known value.
            let mut actual = Vec::with_capacity(options.horizon);
            let (mut point, mut lower, mut upper) = (Vec::new(), Vec::new(), Vec::new());
            for (h, y) in series[cut..cut + options.horizon].iter().enumerate() {
                if let Some(y) = *y {
                    actual.push(y);
                    point.push(f.point[h]);
                    lower.push(f.lower[h]);
                    upper.push(f.upper[h]);
                }
            }
            let season = f.seasons.first().copied().unwrap_or(1);
            let finite = |v: f64| v.is_finite().then_some(v);
            Ok(Fold {
                fold,
                origin: cut - 1,
                smape: finite(smape(&actual, &point)),
                mase: if actual.is_empty() { None } else { mase(&history, &actual, &point, season) },
                coverage: finite(coverage(&actual, &lower, &upper)),
                method: f.method,
                notice: f.notice,
            })
        })
        .collect()
}

/// A dated backtest: the frequency used and each fold's origin stamp.
#[derive(Debug, Clone, PartialEq)]
pub struct DatedBacktest {
    pub frequency: Frequency,
    /// The period of each fold's last training point, on the UTC timeline
    /// for hourly series and on the wall clock otherwise.
    pub origins: Vec<i64>,
    pub folds: Vec<Fold>,
}

/// [`regularize`] once, then [`backtest`] on the regular series, testing
/// the frequency's natural cycles unless `options.season_length` names one.
pub fn backtest_dated(
    periods: &[Option<Stamp>],
    values: &[Option<f64>],
    options: &Options,
    folds: usize,
    frequency: Option<Frequency>,
    fill: Fill,
    check: &dyn Fn(),
) -> Result<DatedBacktest, ForecastError> {
    let regular = regularize(periods, values, frequency, fill)?;
    let candidates = regular.frequency.season_candidates();
    let folds = backtest_with_candidates(&regular.values, options, folds, candidates, check)?;
    let stamps = in_sample_periods(&regular)?;
    Ok(DatedBacktest {
        frequency: regular.frequency,
        origins: folds.iter().map(|f| stamps[f.origin]).collect(),
        folds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Method;

    fn some(v: &[f64]) -> Vec<Option<f64>> {
        v.iter().copied().map(Some).collect()
    }

    fn options(horizon: usize, method: Method) -> Options {
        Options { method, ..Options::new(horizon) }
    }

    #[test]
    fn folds_step_back_from_the_end() {
        let y: Vec<f64> = (0..40).map(|t| 10.0 + t as f64).collect();
        // season_length 1: the rounding noise left after detrending an exact
        // line can pass the season test, and MASE would then scale by it.
        let naive = Options { season_length: Some(1), ..options(5, Method::Naive) };
        let folds = backtest(&some(&y), &naive, 3, &|| ()).unwrap();
        let origins: Vec<usize> = folds.iter().map(|f| f.origin).collect();
        assert_eq!(origins, vec![24, 29, 34]);
        assert_eq!(folds.iter().map(|f| f.fold).collect::<Vec<_>>(), vec![1, 2, 3]);
        // Naive on a line of slope 1: errors 1..5, in-sample MAE 1, so MASE 3.
        for f in &folds {
            assert!((f.mase.unwrap() - 3.0).abs() < 1e-12, "{f:?}");
            let s = f.smape.unwrap();
            assert!(s > 0.0 && s < 200.0);
            assert!((0.0..=1.0).contains(&f.coverage.unwrap()));
            assert_eq!(f.method, "naive");
        }
    }

    #[test]
    fn a_perfect_season_scores_near_zero() {
        let pattern = [10.0, 20.0, 30.0, 20.0];
        let y: Vec<f64> = (0..48).map(|t| pattern[t % 4]).collect();
        let snaive = Options { season_length: Some(4), ..options(4, Method::SeasonalNaive) };
        let folds = backtest(&some(&y), &snaive, 4, &|| ()).unwrap();
        for f in &folds {
            assert!(f.smape.unwrap() < 1e-9, "{f:?}");
            // The in-sample seasonal naive error is 0 too: no scale, no MASE.
            assert_eq!(f.mase, None, "{f:?}");
            assert_eq!(f.coverage, Some(1.0));
        }
    }

    #[test]
    fn held_out_nulls_are_not_scored() {
        let mut s = some(&(0..20).map(|t| t as f64).collect::<Vec<_>>());
        for v in &mut s[17..] {
            *v = None;
        }
        let folds = backtest(&s, &options(3, Method::Naive), 2, &|| ()).unwrap();
        assert!(folds[0].smape.is_some());
        assert_eq!((folds[1].smape, folds[1].mase, folds[1].coverage), (None, None, None));
    }

    #[test]
    fn refuses_bad_folds_and_short_series() {
        let y = some(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let naive = options(2, Method::Naive);
        assert!(matches!(backtest(&y, &naive, 0, &|| ()), Err(ForecastError::InvalidParameter(_))));
        assert!(matches!(backtest(&y, &naive, MAX_FOLDS + 1, &|| ()), Err(ForecastError::TooLong(_))));
        assert!(matches!(
            backtest(&y, &options(5_001, Method::Naive), 2, &|| ()),
            Err(ForecastError::TooLong(_))
        ));
        // 2 folds of 2 need 6 points: exactly enough; 3 folds are not.
        assert_eq!(backtest(&y, &naive, 2, &|| ()).unwrap()[0].origin, 1);
        let Err(ForecastError::UnusableData(m)) = backtest(&y, &naive, 3, &|| ()) else {
            panic!("too short");
        };
        assert!(m.contains("need at least 8 points"), "{m}");
        // Leading nulls do not count.
        let mut late = vec![None, None];
        late.extend(y);
        assert!(matches!(backtest(&late, &naive, 3, &|| ()), Err(ForecastError::UnusableData(_))));
        assert_eq!(backtest(&late, &naive, 2, &|| ()).unwrap()[0].origin, 3);
    }

    #[test]
    fn checks_before_every_fold() {
        let calls = std::cell::Cell::new(0);
        let y = some(&(0..30).map(|t| t as f64).collect::<Vec<_>>());
        backtest(&y, &options(3, Method::Naive), 4, &|| calls.set(calls.get() + 1)).unwrap();
        assert_eq!(calls.get(), 4);
    }

    #[test]
    fn dated_origins_are_stamps() {
        const DAY: i64 = 86_400_000_000;
        let periods: Vec<Option<Stamp>> = (0..30).map(|d| Some(Stamp::naive(d * DAY))).collect();
        let values = some(&(0..30).map(|t| (t % 7) as f64).collect::<Vec<_>>());
        let b = backtest_dated(&periods, &values, &Options::new(7), 2, None, Fill::Zero, &|| ()).unwrap();
        assert_eq!(b.frequency, Frequency::Daily);
        assert_eq!(b.origins, vec![15 * DAY, 22 * DAY]);
        assert_eq!(b.folds.len(), 2);
    }
}
