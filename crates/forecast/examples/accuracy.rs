//! Accuracy of every method on competition series, per data set and
//! frequency: mean sMAPE, MASE and 95% interval coverage, and the time taken.
//!
//!     cargo run --release -p retailml-forecast --example accuracy -- competition.csv [threads]
//!
//! The CSV is bench/prepare.py's competition.csv (dataset, series_id,
//! frequency, period, horizon, train, test; arrays as Postgres literals).

use std::collections::BTreeMap;
use std::time::Instant;

use retailml_forecast::accuracy::{coverage, mase, smape};
use retailml_forecast::{forecast, Method, Options};

struct Series {
    group: String,
    period: usize,
    horizon: usize,
    train: Vec<f64>,
    test: Vec<f64>,
}

fn parse_array(field: &str) -> Vec<f64> {
    field
        .trim_matches(|c| c == '"' || c == '{' || c == '}')
        .split(',')
        .map(|v| v.parse().expect("a number"))
        .collect()
}

fn load(path: &str) -> Vec<Series> {
    let text = std::fs::read_to_string(path).expect("readable CSV");
    text.lines()
        .skip(1)
        .map(|line| {
            // The two arrays are the last two fields, each quoted.
            let (head, arrays) = line.split_once(",\"").expect("array fields");
            let (train, test) = arrays.split_once("\",\"").expect("two arrays");
            let f: Vec<&str> = head.split(',').collect();
            Series {
                group: format!("{} {}", f[0], f[2]),
                period: f[3].parse().expect("period"),
                horizon: f[4].parse().expect("horizon"),
                train: parse_array(train),
                test: parse_array(test),
            }
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let series = load(args.get(1).map(String::as_str).unwrap_or("bench/out/data/competition.csv"));
    let threads: usize = args.get(2).map_or(2, |t| t.parse().expect("threads"));
    let methods = [
        ("naive", Method::Naive),
        ("snaive", Method::SeasonalNaive),
        ("ets", Method::Ets),
        ("mstl", Method::Mstl),
        ("theta", Method::Theta),
        ("auto", Method::Auto),
    ];
    println!("| set | method | series | sMAPE | MASE | coverage | seconds |");
    println!("|---|---|---|---|---|---|---|");
    for (name, method) in methods {
        let started = Instant::now();
        let chunk = series.len().div_ceil(threads);
        let scores: Vec<(String, f64, Option<f64>, f64)> = std::thread::scope(|scope| {
            let handles: Vec<_> = series
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|s| {
                                let options = Options {
                                    horizon: s.horizon,
                                    season_length: Some(s.period),
                                    level: 0.95,
                                    method,
                                    allow_negative: false,
                                };
                                let train: Vec<Option<f64>> = s.train.iter().copied().map(Some).collect();
                                let f = forecast(&train, &options).expect("a forecast");
                                (
                                    s.group.clone(),
                                    smape(&s.test, &f.point),
                                    mase(&s.train, &s.test, &f.point, s.period),
                                    coverage(&s.test, &f.lower, &f.upper),
                                )
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().expect("no panic")).collect()
        });
        let seconds = started.elapsed().as_secs_f64();
        let mut groups: BTreeMap<String, Vec<(f64, Option<f64>, f64)>> = BTreeMap::new();
        for (group, s, m, c) in scores {
            let set = group.split(' ').next().expect("set").to_string();
            groups.entry(group).or_default().push((s, m, c));
            groups.entry(format!("{set} all")).or_default().push((s, m, c));
        }
        for (group, rows) in &groups {
            let n = rows.len() as f64;
            let s = rows.iter().map(|r| r.0).sum::<f64>() / n;
            let mases: Vec<f64> = rows.iter().filter_map(|r| r.1).collect();
            let m = mases.iter().sum::<f64>() / mases.len() as f64;
            let c = rows.iter().map(|r| r.2).sum::<f64>() / n;
            let time = if group.ends_with(" all") { format!("{seconds:.2}") } else { String::new() };
            println!("| {group} | {name} | {} | {s:.2} | {m:.3} | {c:.3} | {time} |", rows.len());
        }
    }
}
