use std::cell::Cell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use retailml_segment::features::{Encoder, Options, Table};
use retailml_segment::profile::profile;
use retailml_segment::{SegmentError, Segmentation, N_RUNS};

fn no_check() {}

/// Numeric rows encoded (NULLs imputed, standardised) and segmented.
fn segment(rows: &[Vec<Option<f64>>], k: usize, seed: u64, check: &dyn Fn()) -> Result<Segmentation, SegmentError> {
    let (_, e) = Encoder::fit(&Table::numeric(rows), &Options::default(), &no_check)?;
    retailml_segment::segment(&e.x, e.cols, k, seed, check)
}

/// Per segment, the mean of each feature in the rows' own units.
fn feature_means(rows: &[Vec<Option<f64>>], fit: &Segmentation) -> Vec<Vec<f64>> {
    let (encoder, e) = Encoder::fit(&Table::numeric(rows), &Options::default(), &no_check).unwrap();
    let display = encoder.display();
    profile(&e.x, e.cols, fit, &display, &no_check).means
}

fn rows(v: &[&[f64]]) -> Vec<Vec<Option<f64>>> {
    v.iter()
        .map(|r| r.iter().copied().map(Some).collect())
        .collect()
}

/// Deterministic uniform numbers in [0, 1) for test data.
fn lcg(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[test]
fn rejects_bad_input() {
    let e = segment(&[], 1, 0, &no_check).unwrap_err();
    assert!(matches!(e, SegmentError::UnusableData(_)), "{e:?}");
    let e = segment(&[vec![], vec![]], 1, 0, &no_check).unwrap_err();
    assert!(matches!(e, SegmentError::UnusableData(_)), "{e:?}");

    let ok = rows(&[&[1.0, 2.0], &[3.0, 4.0], &[5.0, 7.0]]);
    let e = segment(&ok, 0, 0, &no_check).unwrap_err();
    assert_eq!(
        e.to_string(),
        "k must be between 1 and the number of rows (3), got 0"
    );
    let e = segment(&ok, 4, 0, &no_check).unwrap_err();
    assert_eq!(
        e.to_string(),
        "k must be between 1 and the number of rows (3), got 4"
    );

    let dup = rows(&[&[1.0, 2.0], &[1.0, 2.0], &[1.0, 2.0], &[5.0, 7.0]]);
    let e = segment(&dup, 3, 0, &no_check).unwrap_err();
    assert_eq!(
        e.to_string(),
        "k (3) exceeds the number of distinct rows (2)"
    );

    let mut bad = ok.clone();
    bad[1][1] = Some(f64::NAN);
    let e = segment(&bad, 2, 0, &no_check).unwrap_err();
    assert_eq!(
        e,
        SegmentError::UnusableData("customer \"2\" has a \"f2\" that is NaN".into())
    );
    bad[1][1] = Some(f64::INFINITY);
    assert_eq!(
        segment(&bad, 2, 0, &no_check).unwrap_err().to_string(),
        "customer \"2\" has a \"f2\" that is infinite"
    );

    let nulls = vec![vec![Some(1.0), None], vec![Some(2.0), None]];
    let e = segment(&nulls, 1, 0, &no_check).unwrap_err();
    assert_eq!(
        e,
        SegmentError::UnusableData("column \"f2\" has only null values".into())
    );
}

#[test]
fn edge_cases_do_not_fail() {
    // k = 1, k = rows, a single row, a constant column, NULLs, huge values.
    let single = rows(&[&[4.0, 5.0], &[6.0, 5.0]]);
    let one = segment(&single[..1], 1, 0, &no_check).unwrap_err();
    assert_eq!(
        one.to_string(),
        "every feature has a single value (f1, f2), so there is nothing to segment on"
    );
    let two = segment(&single, 1, 0, &no_check).unwrap();
    assert_eq!((two.segment.clone(), two.sizes.clone()), (vec![1, 1], vec![2]));
    assert_eq!(feature_means(&single, &two), vec![vec![5.0]]);

    let data = rows(&[&[1.0, 7.0], &[2.0, 7.0], &[10.0, 7.0], &[11.0, 7.0]]);
    let s = segment(&data, 4, 0, &no_check).unwrap();
    assert_eq!(s.sizes, vec![1; 4]);
    assert_eq!(s.inertia, 0.0);
    let s = segment(&data, 2, 0, &no_check).unwrap();
    assert_eq!(s.sizes, vec![2, 2]);
    // The constant column is dropped.
    assert!(s.centroids.iter().all(|c| c.len() == 1));

    let with_null = vec![
        vec![Some(1.0), None],
        vec![Some(2.0), Some(4.0)],
        vec![Some(10.0), Some(8.0)],
    ];
    let s = segment(&with_null, 1, 0, &no_check).unwrap();
    // The NULL is imputed with the column mean, 6.
    let means = feature_means(&with_null, &s);
    assert!((means[0][0] - 13.0 / 3.0).abs() < 1e-12);
    assert!((means[0][1] - 6.0).abs() < 1e-12);

    let huge = rows(&[&[f64::MAX, -f64::MAX], &[-f64::MAX, f64::MAX], &[0.0, 1.0]]);
    let s = segment(&huge, 2, 0, &no_check).unwrap();
    assert!(s.inertia.is_finite() && s.distance.iter().all(|d| d.is_finite()));
}

#[test]
fn same_seed_same_result() {
    let mut next = lcg(7);
    let data: Vec<Vec<Option<f64>>> = (0..2000)
        .map(|_| (0..4).map(|_| Some(next() * 100.0)).collect())
        .collect();
    let a = segment(&data, 6, 99, &no_check).unwrap();
    let b = segment(&data, 6, 99, &no_check).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.sizes.iter().sum::<usize>(), 2000);
    assert!(a.sizes.windows(2).all(|w| w[0] >= w[1]), "{:?}", a.sizes);
}

#[test]
fn finds_three_separated_blobs_exactly() {
    let mut next = lcg(3);
    let centres = [(0.0, 0.0, 0.0), (50.0, 50.0, 0.0), (0.0, 50.0, 50.0)];
    let sizes = [60, 30, 10];
    let mut data = Vec::new();
    let mut truth = Vec::new();
    for (b, (&(x, y, w), &size)) in centres.iter().zip(&sizes).enumerate() {
        for _ in 0..size {
            data.push(vec![Some(x + next()), Some(y + next()), Some(w + next())]);
            truth.push(b as u32 + 1);
        }
    }
    for seed in 0..5 {
        let s = segment(&data, 3, seed, &no_check).unwrap();
        assert_eq!(s.segment, truth, "seed {seed}");
        assert_eq!(s.sizes, vec![60, 30, 10]);
        for (means, &(x, y, w)) in feature_means(&data, &s).iter().zip(&centres) {
            assert!((means[0] - x - 0.5).abs() < 0.2, "{means:?}");
            assert!((means[1] - y - 0.5).abs() < 0.2, "{means:?}");
            assert!((means[2] - w - 0.5).abs() < 0.2, "{means:?}");
        }
        // Distances are to the segment's own centroid.
        let row0 = data[0].iter().map(|v| v.unwrap()).collect::<Vec<_>>();
        assert!(s.distance[0] < 0.2, "{} for {row0:?}", s.distance[0]);
    }
}

#[test]
fn check_is_called_and_can_cancel() {
    let mut next = lcg(11);
    let data: Vec<Vec<Option<f64>>> = (0..500)
        .map(|_| (0..2).map(|_| Some(next())).collect())
        .collect();
    let calls = Cell::new(0usize);
    segment(&data, 4, 1, &|| calls.set(calls.get() + 1)).unwrap();
    assert!(calls.get() > N_RUNS, "{} calls", calls.get());
    // Postgres' interrupt check unwinds out of the callback; so does this.
    let cancelled = std::panic::catch_unwind(|| {
        segment(&data, 4, 1, &|| {
            panic!("canceling statement due to user request")
        })
    });
    assert!(cancelled.is_err());
}

/// Days since 1970-01-01 of a YYYY-MM-DD date (proleptic Gregorian).
fn day_number(date: &str) -> i64 {
    let p: Vec<i64> = date.split('-').map(|v| v.parse().unwrap()).collect();
    let (y, m, d) = if p[1] <= 2 {
        (p[0] - 1, p[1] + 9, p[2])
    } else {
        (p[0], p[1] - 3, p[2])
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// Recency (days from the last purchase to the day after the data ends),
/// frequency (number of purchases) and monetary (total dollars) per customer.
fn cdnow_rfm() -> Vec<Vec<Option<f64>>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/cdnow_master.csv");
    let text = std::fs::read_to_string(path).expect("tests/data/cdnow_master.csv");
    let mut by_customer: HashMap<u64, (i64, f64, f64)> = HashMap::new();
    let mut end = i64::MIN;
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let id: u64 = f[0].parse().unwrap();
        let day = day_number(f[1]);
        let dollars: f64 = f[3].parse().unwrap();
        end = end.max(day);
        let e = by_customer.entry(id).or_insert((i64::MIN, 0.0, 0.0));
        e.0 = e.0.max(day);
        e.1 += 1.0;
        e.2 += dollars;
    }
    let mut ids: Vec<u64> = by_customer.keys().copied().collect();
    ids.sort_unstable();
    ids.iter()
        .map(|id| {
            let (last, freq, money) = by_customer[id];
            vec![Some((end + 1 - last) as f64), Some(freq), Some(money)]
        })
        .collect()
}

#[test]
fn cdnow_rfm_inertia_near_best_known() {
    let data = cdnow_rfm();
    assert_eq!(data.len(), 23570);
    let started = Instant::now();
    let ours = segment(&data, 5, 0, &no_check).unwrap();
    let secs = started.elapsed().as_secs_f64();
    let mut reference = f64::INFINITY;
    for seed in 1..=30 {
        reference = reference.min(segment(&data, 5, seed, &no_check).unwrap().inertia);
    }
    let ratio = ours.inertia / reference;
    println!(
        "CDNOW RFM 23570 x 3, k=5: inertia {:.2} in {secs:.3}s, best of 30 more seeds {reference:.2} \
         (ratio {ratio:.5}), sizes {:?}",
        ours.inertia, ours.sizes
    );
    assert!(
        ratio <= 1.02,
        "ours {} vs reference {reference}",
        ours.inertia
    );
}

#[test]
fn hundred_thousand_rows_timing() {
    let mut next = lcg(5);
    let data: Vec<Vec<Option<f64>>> = (0..100_000)
        .map(|_| (0..8).map(|_| Some(next())).collect())
        .collect();
    let last = Cell::new(Instant::now());
    let longest = Cell::new(Duration::ZERO);
    let calls = Cell::new(0usize);
    let check = || {
        calls.set(calls.get() + 1);
        let now = Instant::now();
        longest.set(longest.get().max(now - last.get()));
        last.set(now);
    };
    let started = Instant::now();
    last.set(started);
    let s = segment(&data, 8, 42, &check).unwrap();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "100000 x 8 uniform rows, k=8: {secs:.2}s, {} checks, longest gap between checks {:.1} ms, \
         sizes {:?}",
        calls.get(),
        longest.get().as_secs_f64() * 1e3,
        s.sizes
    );
    assert_eq!(s.sizes.iter().sum::<usize>(), 100_000);
    // Checked every iteration, not only between runs. The gap is wall time,
    // so the bound leaves room for a machine busy with other work.
    assert!(calls.get() > 10 * N_RUNS, "{} checks", calls.get());
    assert!(
        longest.get() < Duration::from_secs(2),
        "{:?}",
        longest.get()
    );
}

#[test]
fn same_result_whatever_the_thread_count() {
    // Several row blocks, so that sums are taken over blocks on different
    // threads.
    let mut next = lcg(13);
    let data: Vec<Vec<Option<f64>>> = (0..30_000)
        .map(|_| (0..5).map(|_| Some(next() * 10.0)).collect())
        .collect();
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| segment(&data, 7, 5, &no_check).unwrap())
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(3));
}

#[test]
fn finds_three_blobs_in_many_rows() {
    // 3 × 20,000 rows in 6 dimensions, interleaved, far apart.
    let mut next = lcg(17);
    let mut data = Vec::new();
    let mut truth = Vec::new();
    for i in 0..60_000 {
        let blob = i % 3;
        data.push(
            (0..6)
                .map(|j| Some(if j == blob { 20.0 } else { 0.0 } + next()))
                .collect::<Vec<_>>(),
        );
        truth.push(blob);
    }
    let s = segment(&data, 3, 1, &no_check).unwrap();
    assert_eq!(s.sizes, vec![20_000; 3]);
    // Same blob, same segment; different blobs, different segments.
    let of_blob: Vec<u32> = (0..3).map(|b| s.segment[b]).collect();
    assert!(of_blob[0] != of_blob[1] && of_blob[1] != of_blob[2] && of_blob[0] != of_blob[2]);
    for (seg, &blob) in s.segment.iter().zip(&truth) {
        assert_eq!(*seg, of_blob[blob]);
    }
}
