//! Sales forecasting core of retailml: series preparation, season detection,
//! the single methods, their combination and prediction intervals.
//!
//! The crate never touches Postgres. One call forecasts one series; fitting a
//! few hundred points takes milliseconds, so there is no interrupt callback
//! (callers with many series check between series).

use std::fmt;

pub mod accuracy;
pub mod backtest;
pub mod batch;
pub mod dated;
pub mod decompose;
mod ets;
mod methods;
pub mod season;

use methods::{adjusted, auto_ets, naive, seasonal_naive, theta, Fitted};
use season::Adjustment;

pub use accuracy::smape;

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
    /// The series or the horizon is longer than its limit (SQLSTATE 54000).
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
            | Self::Internal(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ForecastError {}

/// The forecasting method a caller asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The mean of Theta and AutoETS (MSTL for a seasonal series).
    Auto,
    /// The last value.
    Naive,
    /// The last season.
    SeasonalNaive,
    /// Non-seasonal AutoETS on the series with its classical seasonal
    /// decomposition taken out.
    Ets,
    /// STL decomposition of every season plus AutoETS on the rest.
    Mstl,
    /// The Theta method on the seasonally adjusted series.
    Theta,
}

impl Method {
    pub const NAMES: &'static str = "auto, naive, snaive, ets, mstl or theta";

    pub fn parse(name: &str) -> Result<Method, ForecastError> {
        Ok(match name.trim().to_ascii_lowercase().as_str() {
            "auto" => Self::Auto,
            "naive" => Self::Naive,
            "snaive" | "seasonal_naive" | "seasonal naive" => Self::SeasonalNaive,
            "ets" | "autoets" => Self::Ets,
            "mstl" => Self::Mstl,
            "theta" => Self::Theta,
            _ => {
                return Err(ForecastError::InvalidParameter(format!(
                    "unknown method \"{name}\": use {}",
                    Self::NAMES
                )))
            }
        })
    }
}

/// What to forecast and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Steps to forecast, 1..=[`MAX_HORIZON`].
    pub horizon: usize,
    /// The season to test for: `Some(1)` means non-seasonal, `Some(m)` a
    /// cycle of m periods, `None` detect one.
    pub season_length: Option<usize>,
    /// Coverage of the prediction interval, strictly inside (0, 1).
    pub level: f64,
    pub method: Method,
    /// Keep negative forecasts and bounds; by default they are clipped at 0,
    /// since sales are not negative.
    pub allow_negative: bool,
}

impl Options {
    /// `horizon` steps, season detected, 95% intervals, `auto`, clipped at 0.
    pub fn new(horizon: usize) -> Options {
        Options {
            horizon,
            season_length: None,
            level: 0.95,
            method: Method::Auto,
            allow_negative: false,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), ForecastError> {
        if self.horizon == 0 {
            return Err(ForecastError::InvalidParameter(
                "horizon must be at least 1".to_string(),
            ));
        }
        if self.horizon > MAX_HORIZON {
            return Err(ForecastError::TooLong(format!(
                "horizon {} is above the limit of {MAX_HORIZON}",
                self.horizon
            )));
        }
        // Written so that a NaN level is rejected too.
        if !(self.level > 0.0 && self.level < 1.0) {
            return Err(ForecastError::InvalidParameter(format!(
                "level must be strictly between 0 and 1, got {}",
                self.level
            )));
        }
        if self.season_length == Some(0) {
            return Err(ForecastError::InvalidParameter(
                "season_length must be at least 1".to_string(),
            ));
        }
        Ok(())
    }
}

/// A point forecast with a prediction interval for each future step.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    pub point: Vec<f64>,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
    /// The model that produced the forecast, e.g. `Theta`, `AutoETS(A,Ad,N)`,
    /// `auto: mean of AutoETS(M,A,N), Theta, MSTL`, with `, season 12` when
    /// seasonally adjusted.
    pub method: String,
    /// The seasons the forecast used, shortest first; empty when none.
    pub seasons: Vec<usize>,
    /// Set when the method asked for could not fit and a simpler one was used.
    pub notice: Option<String>,
}

/// Forecast `options.horizon` steps after the end of `series`.
///
/// Input handling:
/// - `None` is a missing value, not a zero. Leading `None`s are dropped,
///   interior ones are linearly interpolated between their neighbours, and
///   trailing ones carry the last value forward. The forecast starts after the
///   last input position, trailing `None`s included, so step 1 of the result
///   is always the period after the last row the caller passed.
/// - NaN or ±Infinity anywhere, an empty series or one with no values at all
///   is [`ForecastError::UnusableData`].
/// - Seasons: `season_length => None` detects one by periodogram; either way
///   a season is used only when [`season::confirmed`] finds it in the data.
///
/// A constant series gets a constant forecast with a zero-width interval,
/// whatever the method: the data shows no variation to scale one by.
pub fn forecast(series: &[Option<f64>], options: &Options) -> Result<Forecast, ForecastError> {
    forecast_with_candidates(series, options, &[])
}

/// [`forecast`], where `candidates` are the seasons to test when the caller
/// gave no season_length (the natural cycles of a dated series' frequency);
/// with none, a season is detected by periodogram.
pub(crate) fn forecast_with_candidates(
    series: &[Option<f64>],
    options: &Options,
    candidates: &[usize],
) -> Result<Forecast, ForecastError> {
    options.validate()?;
    let y = prepare(series)?;
    let horizon = options.horizon;

    let first = y[0];
    if y.iter().all(|&v| v == first) {
        let method = if y.len() == 1 {
            "naive (single observation)"
        } else {
            "naive (constant series)"
        };
        let value = if options.allow_negative { first } else { first.max(0.0) };
        return Ok(Forecast {
            point: vec![value; horizon],
            lower: vec![value; horizon],
            upper: vec![value; horizon],
            method: method.to_string(),
            seasons: Vec::new(),
            notice: None,
        });
    }

    // Fit on y / max|y| and scale back: the likelihoods square the data
    // (1e300 would overflow). A pure scale keeps the sign of every value, so
    // the multiplicative models stay available for positive series, and it
    // costs at most an ulp of f64 precision.
    let scale = y.iter().fold(0.0_f64, |a, v| a.max(v.abs()));
    let z: Vec<f64> = y.iter().map(|v| v / scale).collect();

    let tested: Vec<usize> = match options.season_length {
        Some(m) => vec![m],
        None if !candidates.is_empty() => candidates.to_vec(),
        None => season::detect(&z).into_iter().collect(),
    };
    let seasons = season::confirmed(&z, &tested);
    let quantile = normal_quantile(0.5 + options.level / 2.0);
    let models = Models {
        z: &z,
        seasons: &seasons,
        horizon,
        level: options.level,
        quantile,
    };
    let (fitted, notice) = models.run(options.method, tested.first().copied());

    let clip = |v: f64| if options.allow_negative { v } else { v.max(0.0) };
    let rescale = |v: &[f64]| -> Vec<f64> {
        v.iter()
            .map(|x| clip((x * scale).clamp(-f64::MAX, f64::MAX)))
            .collect()
    };
    Ok(Forecast {
        point: rescale(&fitted.point),
        lower: rescale(&fitted.lower),
        upper: rescale(&fitted.upper),
        method: fitted.method,
        seasons,
        notice,
    })
}

/// One scaled series and what every method needs to forecast it.
struct Models<'a> {
    z: &'a [f64],
    /// Confirmed seasons, shortest first.
    seasons: &'a [usize],
    horizon: usize,
    level: f64,
    quantile: f64,
}

impl Models<'_> {
    /// The forecast of `method`, or of a simpler one with a notice saying so
    /// when it cannot fit; `asked_season` is the season seasonal naive uses
    /// when the data did not confirm one.
    fn run(&self, method: Method, asked_season: Option<usize>) -> (Fitted, Option<String>) {
        let fitted = match method {
            Method::Auto => self.auto(),
            Method::Naive => Some(naive(self.z, self.horizon, self.quantile)),
            Method::SeasonalNaive => {
                let m = self.seasons.first().copied().or(asked_season).unwrap_or(1);
                seasonal_naive(self.z, m, self.horizon, self.quantile)
            }
            Method::Ets => self.ets(),
            Method::Mstl => self.mstl(),
            Method::Theta => self.theta(),
        };
        match fitted {
            Some(f) => (f, None),
            None => {
                let f = naive(self.z, self.horizon, self.quantile);
                let notice = format!(
                    "{} cannot forecast this series ({} points{}); used naive",
                    method_label(method),
                    self.z.len(),
                    if method == Method::SeasonalNaive { ", no full season" } else { "" }
                );
                (f, Some(notice))
            }
        }
    }

    /// The classical decomposition's seasonal part, for one confirmed
    /// season; STL's for several.
    fn classical(&self) -> Option<Adjustment> {
        match self.seasons {
            [] => None,
            [m] => Some(Adjustment::classical(self.z, *m)),
            many => Adjustment::stl(self.z, many).or_else(|| Some(Adjustment::classical(self.z, many[0]))),
        }
    }

    fn with_season(&self, f: Fitted) -> Fitted {
        if self.seasons.is_empty() {
            return f;
        }
        let list: Vec<String> = self.seasons.iter().map(usize::to_string).collect();
        Fitted {
            method: format!("{}, season {}", f.method, list.join("+")),
            ..f
        }
    }

    fn ets(&self) -> Option<Fitted> {
        let adjustment = self.classical();
        adjusted(self.z, adjustment.as_ref(), |a| auto_ets(a, self.horizon, self.level))
            .map(|f| self.with_season(f))
    }

    fn theta(&self) -> Option<Fitted> {
        let adjustment = self.classical();
        adjusted(self.z, adjustment.as_ref(), |a| theta(a, self.horizon, self.quantile))
            .map(|f| self.with_season(f))
    }

    /// STL of every season, then AutoETS on trend plus remainder; with no
    /// season, plain AutoETS.
    fn mstl(&self) -> Option<Fitted> {
        if self.seasons.is_empty() {
            return self.ets();
        }
        let adjustment = Adjustment::stl(self.z, self.seasons)?;
        let f = adjusted(self.z, Some(&adjustment), |a| auto_ets(a, self.horizon, self.level))?;
        let list: Vec<String> = self.seasons.iter().map(usize::to_string).collect();
        Some(Fitted {
            method: format!("MSTL({}) + {}", list.join(","), f.method),
            ..f
        })
    }

    /// The combination: the mean of Theta's forecast and AutoETS's (after STL
    /// when the series is seasonal), with an interval spanning both members'
    /// intervals, so that the members' disagreement widens it.
    ///
    /// Measured on M1 and Tourism (crates/forecast/examples/accuracy.rs):
    /// the two-member mean beat each member and a three-member mean with the
    /// classically adjusted AutoETS, the median of three was worse, and the
    /// spanning interval moved 95% coverage from 0.82 to 0.87 on M1 and from
    /// 0.90 to 0.92 on Tourism where the mean of the bounds undercovered.
    /// One AutoETS fit per series also keeps it fast: Theta costs 1% of it.
    fn auto(&self) -> Option<Fitted> {
        let ets = if self.seasons.is_empty() { self.ets() } else { self.mstl() };
        let members: Vec<Fitted> = [self.theta(), ets].into_iter().flatten().collect();
        if members.len() < 2 {
            return members.into_iter().next();
        }
        let k = members.len() as f64;
        let mut point = vec![0.0; self.horizon];
        let mut lower = vec![f64::INFINITY; self.horizon];
        let mut upper = vec![f64::NEG_INFINITY; self.horizon];
        for m in &members {
            for h in 0..self.horizon {
                point[h] += m.point[h] / k;
                lower[h] = lower[h].min(m.lower[h]);
                upper[h] = upper[h].max(m.upper[h]);
            }
        }
        let names: Vec<&str> = members.iter().map(|m| m.method.as_str()).collect();
        Some(Fitted {
            point,
            lower,
            upper,
            method: format!("auto: mean of {}", names.join("; ")),
        })
    }
}

fn method_label(method: Method) -> &'static str {
    match method {
        Method::Auto => "auto",
        Method::Naive => "naive",
        Method::SeasonalNaive => "seasonal naive",
        Method::Ets => "AutoETS",
        Method::Mstl => "MSTL",
        Method::Theta => "Theta",
    }
}

/// Validate and fill the series as documented on [`forecast`].
pub(crate) fn prepare(series: &[Option<f64>]) -> Result<Vec<f64>, ForecastError> {
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
}
