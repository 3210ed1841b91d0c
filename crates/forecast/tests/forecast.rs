use std::time::Instant;

use retailml_forecast::{smape, Forecast, ForecastError, Method, Options, MAX_HORIZON};

/// The default method with negative values kept, so that the checks below
/// see the models' own output.
fn forecast(
    series: &[Option<f64>],
    horizon: usize,
    season_length: Option<usize>,
    level: f64,
) -> Result<Forecast, ForecastError> {
    let options = Options {
        horizon,
        season_length,
        level,
        method: Method::Auto,
        allow_negative: true,
    };
    retailml_forecast::forecast(series, &options)
}

fn some(v: &[f64]) -> Vec<Option<f64>> {
    v.iter().copied().map(Some).collect()
}

/// Every forecast must be complete, finite and ordered, whatever the input.
fn assert_well_formed(f: &Forecast, horizon: usize) {
    assert_eq!(f.point.len(), horizon, "{f:?}");
    assert_eq!(f.lower.len(), horizon, "{f:?}");
    assert_eq!(f.upper.len(), horizon, "{f:?}");
    for i in 0..horizon {
        assert!(f.point[i].is_finite() && f.lower[i].is_finite() && f.upper[i].is_finite());
        assert!(
            f.lower[i] <= f.point[i] && f.point[i] <= f.upper[i],
            "{f:?}"
        );
    }
}

#[test]
fn rejects_bad_parameters() {
    let s = some(&[1.0, 2.0, 3.0]);
    let e = forecast(&s, 0, None, 0.9).unwrap_err();
    assert!(matches!(e, ForecastError::InvalidParameter(_)), "{e:?}");
    let e = forecast(&s, MAX_HORIZON + 1, None, 0.9).unwrap_err();
    assert!(matches!(e, ForecastError::TooLong(_)), "{e:?}");
    for level in [0.0, 1.0, -0.5, 1.5, f64::NAN] {
        let e = forecast(&s, 3, None, level).unwrap_err();
        assert!(matches!(e, ForecastError::InvalidParameter(_)), "{e:?}");
    }
    let e = forecast(&s, 3, Some(0), 0.9).unwrap_err();
    assert!(matches!(e, ForecastError::InvalidParameter(_)), "{e:?}");
    assert_eq!(e.to_string(), "season_length must be at least 1");
}

#[test]
fn rejects_unusable_data() {
    for s in [vec![], vec![None, None]] {
        let e = forecast(&s, 3, None, 0.9).unwrap_err();
        assert!(matches!(e, ForecastError::UnusableData(_)), "{e:?}");
    }
    let e = forecast(&[Some(1.0), None, Some(f64::NAN)], 3, None, 0.9).unwrap_err();
    assert_eq!(
        e,
        ForecastError::UnusableData("series value at position 3 is NaN".into())
    );
    let e = forecast(&[Some(f64::NEG_INFINITY)], 3, None, 0.9).unwrap_err();
    assert_eq!(e.to_string(), "series value at position 1 is infinite");
}

#[test]
fn degenerate_series_fall_back_gracefully() {
    let cases: Vec<Vec<Option<f64>>> = vec![
        some(&[5.0]),
        some(&[5.0, 7.0]),
        some(&[5.0, 7.0, 6.0]),
        some(&[0.0; 40]),
        some(&[3.5; 40]),
        some(&[
            1e300, 1.2e300, 0.9e300, 1.1e300, 1e300, 1.3e300, 1.2e300, 1.4e300,
        ]),
        some(&[
            -1e300, 1e300, -1e300, 1e300, -1e300, 1e300, -1e300, 1e300, -1e300,
        ]),
        some(&[f64::MAX, f64::MAX, -f64::MAX, 0.0]),
        some(&[5e-324, 0.0, 5e-324, 5e-324, 0.0, 0.0, 5e-324, 0.0]),
        some(&(0..50).map(|t| -100.0 - t as f64 * 3.0).collect::<Vec<_>>()),
        some(&(0..50).map(|t| ((t % 7) as f64) - 3.0).collect::<Vec<_>>()),
        vec![None, None, Some(2.0), None, None, None],
    ];
    for s in &cases {
        for season in [None, Some(1), Some(2), Some(12), Some(usize::MAX)] {
            for h in [1, 24] {
                let f = forecast(s, h, season, 0.95)
                    .unwrap_or_else(|e| panic!("{s:?} season {season:?}: {e}"));
                assert_well_formed(&f, h);
            }
        }
    }
    let f = forecast(&some(&[3.5; 40]), 4, None, 0.8).unwrap();
    assert_eq!(f.point, vec![3.5; 4]);
    assert_eq!(f.lower, f.upper);
    let f = forecast(&some(&[5.0]), 2, None, 0.8).unwrap();
    assert_eq!((f.point[0], f.lower[0], f.upper[0]), (5.0, 5.0, 5.0));
    // Two points: naive with a random-walk interval that widens with sqrt(h).
    let f = forecast(&some(&[5.0, 7.0]), 4, None, 0.95).unwrap();
    assert_eq!(f.method, "naive");
    assert_eq!(f.point, vec![7.0; 4]);
    let w1 = f.upper[0] - f.point[0];
    let w4 = f.upper[3] - f.point[3];
    assert!((w1 - 1.959964 * 2.0).abs() < 1e-5, "{w1}");
    assert!((w4 / w1 - 2.0).abs() < 1e-9);
}

#[test]
fn nulls_are_missing_values_not_zeros() {
    let full: Vec<f64> = (0..60).map(|t| 100.0 + 2.0 * t as f64).collect();
    let mut holes = some(&full);
    for i in [5, 6, 7, 30, 31] {
        holes[i] = None;
    }
    let a = forecast(&some(&full), 6, Some(1), 0.9).unwrap();
    let b = forecast(&holes, 6, Some(1), 0.9).unwrap();
    // Interpolating a straight line restores it exactly, so the fits agree.
    for (x, y) in a.point.iter().zip(&b.point) {
        assert!((x - y).abs() < 1e-6 * x.abs(), "{x} vs {y}");
    }
    // Leading nulls are dropped, trailing ones hold the last value.
    let mut padded = vec![None; 10];
    padded.extend(some(&full));
    padded.extend([None, None]);
    let c = forecast(&padded, 3, Some(1), 0.9).unwrap();
    assert_well_formed(&c, 3);
    assert!(c.point[0] < full[59] + 10.0, "{:?}", c.point);
}

#[test]
fn follows_trend_and_season() {
    let trend: Vec<f64> = (0..40).map(|t| 10.0 + 0.5 * t as f64).collect();
    let f = forecast(&some(&trend), 5, Some(1), 0.9).unwrap();
    assert!(f.method.starts_with("auto: mean of Theta; AutoETS("), "{}", f.method);
    assert!(f.seasons.is_empty());
    // Theta extrapolates half the slope, so the combination lags a perfect
    // line by a quarter of a step's rise per step.
    for (h, p) in f.point.iter().enumerate() {
        let truth = 10.0 + 0.5 * (40 + h) as f64;
        assert!((p - truth).abs() < 0.2 * (h + 1) as f64, "{p} vs {truth}");
    }

    let seasonal: Vec<f64> = (0..120)
        .map(|t| {
            let x = t as f64;
            200.0 + x + 30.0 * (x * std::f64::consts::TAU / 12.0).sin() + ((t * 7919) % 13) as f64
        })
        .collect();
    let detected = forecast(&some(&seasonal), 24, None, 0.9).unwrap();
    assert_eq!(detected.seasons, vec![12], "{}", detected.method);
    assert!(detected.method.contains("MSTL(12)"), "{}", detected.method);
    let truth: Vec<f64> = (120..144)
        .map(|t| {
            let x = t as f64;
            200.0 + x + 30.0 * (x * std::f64::consts::TAU / 12.0).sin() + 6.0
        })
        .collect();
    let err = smape(&truth, &detected.point);
    assert!(err < 3.0, "smape {err}");
    // Intervals widen with the horizon.
    let w = |i: usize| detected.upper[i] - detected.lower[i];
    assert!(w(23) > w(0));
}

#[test]
fn smape_definition() {
    assert_eq!(smape(&[0.0, 100.0], &[0.0, 100.0]), 0.0);
    assert_eq!(smape(&[100.0], &[0.0]), 200.0);
    assert!((smape(&[100.0, 0.0], &[50.0, 0.0]) - 100.0 / 1.5 / 2.0).abs() < 1e-12);
    assert!(smape(&[], &[]).is_nan());
}

struct Series {
    id: String,
    season: usize,
    horizon: usize,
    train: Vec<f64>,
    test: Vec<f64>,
}

fn load_m1() -> Vec<Series> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/m1.csv");
    let text = std::fs::read_to_string(path).expect("tests/data/m1.csv");
    let nums = |s: &str| -> Vec<f64> { s.split(' ').map(|v| v.parse().unwrap()).collect() };
    text.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let season = match f[1] {
                "MONTHLY" => 12,
                "QUARTERLY" => 4,
                "YEARLY" => 1,
                other => panic!("unknown period {other}"),
            };
            Series {
                id: f[0].to_string(),
                season,
                horizon: f[2].parse().unwrap(),
                train: nums(f[3]),
                test: nums(f[4]),
            }
        })
        .collect()
}

fn seasonal_naive(train: &[f64], season: usize, horizon: usize) -> Vec<f64> {
    let m = if train.len() >= season { season } else { 1 };
    let tail = &train[train.len() - m..];
    (0..horizon).map(|h| tail[h % m]).collect()
}

/// All 1,001 M1 series at their official horizons, season length from the
/// period: our sMAPE must beat seasonal naive's, and the 95% intervals must
/// cover a plausible share of the held-out points.
#[test]
fn m1_accuracy_beats_seasonal_naive() {
    let data = load_m1();
    assert_eq!(data.len(), 1001);
    let started = Instant::now();
    for (label, season) in [("monthly", 12), ("quarterly", 4), ("yearly", 1), ("all", 0)] {
        let subset: Vec<&Series> = data
            .iter()
            .filter(|s| season == 0 || s.season == season)
            .collect();
        let (mut ours, mut naive, mut covered, mut points) = (0.0, 0.0, 0usize, 0usize);
        let mut methods = std::collections::BTreeMap::<String, usize>::new();
        for s in &subset {
            let f = forecast(&some(&s.train), s.horizon, Some(s.season), 0.95)
                .unwrap_or_else(|e| panic!("{}: {e}", s.id));
            assert_well_formed(&f, s.horizon);
            ours += smape(&s.test, &f.point);
            naive += smape(&s.test, &seasonal_naive(&s.train, s.season, s.horizon));
            for (i, y) in s.test.iter().enumerate() {
                points += 1;
                covered += usize::from(f.lower[i] <= *y && *y <= f.upper[i]);
            }
            let family = f.method.split([':', '(']).next().unwrap_or("").to_string();
            *methods.entry(family).or_default() += 1;
        }
        let n = subset.len() as f64;
        let (ours, naive) = (ours / n, naive / n);
        let coverage = covered as f64 / points as f64;
        println!(
            "M1 {label} ({} series): sMAPE ours {ours:.2}, seasonal naive {naive:.2}, \
             95% interval coverage {:.1}%, methods {methods:?}",
            subset.len(),
            100.0 * coverage
        );
        assert!(
            ours < naive,
            "{label}: ours {ours} vs seasonal naive {naive}"
        );
        // augurs' ETS intervals ignore parameter and seasonal uncertainty and
        // are known to undercover on short competition series; far below
        // this would mean they are broken, not just optimistic.
        assert!(
            (0.65..=0.99).contains(&coverage),
            "{label}: coverage {coverage}"
        );
    }
    println!("M1 total time {:.2}s", started.elapsed().as_secs_f64());
}

/// Season detection on M1 monthly data: when we are not told the period, the
/// result must still beat seasonal naive.
#[test]
fn m1_monthly_with_detected_season() {
    let data = load_m1();
    let monthly: Vec<&Series> = data.iter().filter(|s| s.season == 12).collect();
    let (mut ours, mut naive) = (0.0, 0.0);
    let mut detected = std::collections::BTreeMap::<Option<usize>, usize>::new();
    for s in &monthly {
        let f = forecast(&some(&s.train), s.horizon, None, 0.95).unwrap();
        assert_well_formed(&f, s.horizon);
        *detected.entry(f.seasons.first().copied()).or_default() += 1;
        ours += smape(&s.test, &f.point);
        naive += smape(&s.test, &seasonal_naive(&s.train, 12, s.horizon));
    }
    let n = monthly.len() as f64;
    println!(
        "M1 monthly, season detected: sMAPE ours {:.2}, seasonal naive {:.2}, season lengths {detected:?}",
        ours / n,
        naive / n
    );
    assert!(ours < naive);
}

#[test]
fn thousand_series_in_reasonable_time() {
    // Deterministic pseudo-random monthly-looking series of 100 points.
    let mut state = 42_u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let series: Vec<Vec<Option<f64>>> = (0..1000)
        .map(|_| {
            let (base, slope, amp) = (100.0 + 900.0 * next(), 2.0 * next() - 1.0, 50.0 * next());
            (0..100)
                .map(|t| {
                    let x = t as f64;
                    Some(
                        base + slope * x
                            + amp * (x * std::f64::consts::TAU / 12.0).sin()
                            + 20.0 * next(),
                    )
                })
                .collect()
        })
        .collect();
    let started = Instant::now();
    for (i, s) in series.iter().enumerate() {
        let season = if i % 2 == 0 { None } else { Some(12) };
        let f = forecast(s, 12, season, 0.9).unwrap();
        assert_well_formed(&f, 12);
    }
    let secs = started.elapsed().as_secs_f64();
    println!("1000 series x 100 points, horizon 12: {secs:.2}s");
    assert!(secs < 60.0, "{secs}s");
}

const METHODS: [Method; 6] = [
    Method::Auto,
    Method::Naive,
    Method::SeasonalNaive,
    Method::Ets,
    Method::Mstl,
    Method::Theta,
];

fn with_method(method: Method, horizon: usize, season_length: Option<usize>) -> Options {
    Options {
        method,
        season_length,
        ..Options::new(horizon)
    }
}

/// Every method on every awkward series: complete, finite, ordered output,
/// and never below zero unless negatives are allowed.
#[test]
fn every_method_survives_awkward_series() {
    // Intermittent demand: mostly zeros, the odd sale.
    let intermittent: Vec<f64> = (0..60).map(|t| if t % 7 == 3 { 5.0 } else { 0.0 }).collect();
    let cases: Vec<Vec<f64>> = vec![
        vec![5.0],
        vec![5.0, 7.0],
        vec![0.0; 30],
        intermittent,
        vec![0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0],
        vec![1e308, 1.5e308, 1e308, 1.7e308, 1e308, 1.2e308, 1e308, 1.6e308, 1e308],
        (0..40).map(|t| -50.0 + (t % 4) as f64).collect(),
        (0..40).map(|t| ((t * 7919) % 13) as f64 - 6.0).collect(),
    ];
    for s in &cases {
        for method in METHODS {
            for season in [None, Some(1), Some(4), Some(12)] {
                for allow_negative in [false, true] {
                    let options = Options {
                        allow_negative,
                        ..with_method(method, 9, season)
                    };
                    let f = retailml_forecast::forecast(&some(s), &options)
                        .unwrap_or_else(|e| panic!("{s:?} {method:?} {season:?}: {e}"));
                    assert_well_formed(&f, 9);
                    if !allow_negative {
                        assert!(f.lower.iter().all(|&v| v >= 0.0), "{s:?} {method:?}: {f:?}");
                    }
                }
            }
        }
    }
    // Negative history: clipped at 0 by default, kept when allowed.
    let negative: Vec<f64> = (0..40).map(|t| -50.0 - t as f64).collect();
    let clipped = retailml_forecast::forecast(&some(&negative), &Options::new(3)).unwrap();
    assert_eq!(clipped.point, vec![0.0; 3]);
    let kept = forecast(&some(&negative), 3, None, 0.95).unwrap();
    assert!(kept.point.iter().all(|&v| v < -80.0), "{:?}", kept.point);
}

/// Sales in the hundreds of millions with a seasonal swing of a few units:
/// a float32 round trip (ulp 32 at 3e8) would flatten the swing.
#[test]
fn large_totals_keep_float64_precision() {
    let pattern = [0.0, 3.0, -2.0, 5.0];
    let y: Vec<f64> = (0..48).map(|t| 3e8 + pattern[t % 4]).collect();
    for method in [Method::Auto, Method::Mstl, Method::Ets, Method::Theta, Method::SeasonalNaive] {
        let f = retailml_forecast::forecast(&some(&y), &with_method(method, 8, Some(4))).unwrap();
        for (h, p) in f.point.iter().enumerate() {
            let truth = 3e8 + pattern[(48 + h) % 4];
            assert!((p - truth).abs() < 0.5, "{method:?} step {h}: {p} vs {truth} ({})", f.method);
        }
    }
}

/// A method that cannot fit says so and stands aside for naive.
#[test]
fn short_series_fall_back_with_a_notice() {
    let s = some(&[3.0, 4.0, 5.0, 4.0, 6.0]);
    let f = retailml_forecast::forecast(&s, &with_method(Method::SeasonalNaive, 3, Some(12))).unwrap();
    assert_eq!(f.method, "naive");
    let notice = f.notice.expect("a notice");
    assert!(notice.contains("seasonal naive cannot forecast this series (5 points"), "{notice}");
    let f = retailml_forecast::forecast(&s, &with_method(Method::Theta, 3, None)).unwrap();
    assert_eq!((f.method.as_str(), f.notice), ("Theta", None));
    let f = retailml_forecast::forecast(&s[..2], &with_method(Method::Theta, 3, None)).unwrap();
    assert_eq!(f.method, "naive");
    assert!(f.notice.is_some());
}

#[test]
fn method_names_parse() {
    assert_eq!(Method::parse(" SNaive ").unwrap(), Method::SeasonalNaive);
    assert_eq!(Method::parse("theta").unwrap(), Method::Theta);
    let e = Method::parse("arima").unwrap_err();
    assert_eq!(e.to_string(), "unknown method \"arima\": use auto, naive, snaive, ets, mstl or theta");
}
