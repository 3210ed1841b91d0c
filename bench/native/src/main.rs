//! Runs one benchmark workload on the core crates, without Postgres, and
//! prints its wall time as JSON, so bench/run.py can set it beside the same
//! workload in SQL.
//!
//!     retailml-bench text   MODEL_DIR reviews.jsonl   (one JSON string per line)
//!     retailml-bench text-batch MODEL_DIR reviews.jsonl (the same, all in one embed_batch)
//!     retailml-bench image  MODEL_DIR photos.jsonl    (one file path per line)
//!     retailml-bench image-batch MODEL_DIR photos.jsonl N (the same as embed_images: batches of N)
//!     retailml-bench forecast series.jsonl            ({"train": [..], "horizon": h, "period": m})
//!     retailml-bench segment rows.jsonl K             (one JSON array of numbers per line)
//!
//! Each workload does per item what the SQL function does per row; model
//! loading, input parsing and one warm-up item (first touch of the mapped
//! weights, thread pool start) are outside the timed part, as they are for
//! the SQL side, whose session has already run the function once.

use std::path::Path;
use std::process::exit;
use std::time::Instant;

use retailml_embed::{preprocess_images, ImageEncoder, TextEmbedder, TextEncoder, DEFAULT_MAX_IMAGE_PIXELS};
use serde_json::{json, Value};

fn read_lines(path: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| fail(&format!("{path}: {e}")));
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| fail(&format!("{path}: {e}"))))
        .collect()
}

fn fail(message: &str) -> ! {
    eprintln!("retailml-bench: {message}");
    exit(2)
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| fail("expected an array of numbers"))
        .iter()
        .map(|x| x.as_f64().unwrap_or_else(|| fail("expected a number")))
        .collect()
}

/// Runs `warm_up`, then times `work` over `items` items and prints the result line.
fn report(workload: &str, items: usize, warm_up: impl FnOnce(), work: impl FnOnce()) {
    warm_up();
    let start = Instant::now();
    work();
    let seconds = start.elapsed().as_secs_f64();
    println!("{}", json!({"workload": workload, "items": items, "seconds": seconds}));
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [workload @ ("text" | "text-batch"), model_dir, input] => {
            let texts: Vec<String> = read_lines(input)
                .into_iter()
                .map(|v| v.as_str().unwrap_or_else(|| fail("expected a string")).to_string())
                .collect();
            let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
            let encoder = TextEncoder::load(Path::new(model_dir)).unwrap_or_else(|e| fail(&e.to_string()));
            let embed = |t: &&str| {
                encoder.embed(t).unwrap_or_else(|e| fail(&e.to_string()));
            };
            let warm_up = || texts.iter().take(1).for_each(embed);
            if *workload == "text" {
                report("text", texts.len(), warm_up, || texts.iter().for_each(embed));
            } else {
                report("text-batch", texts.len(), warm_up, || {
                    encoder.embed_batch(&texts).unwrap_or_else(|e| fail(&e.to_string()));
                });
            }
        }
        [workload @ ("image" | "image-batch"), model_dir, input, batch @ ..] => {
            let images: Vec<Vec<u8>> = read_lines(input)
                .iter()
                .map(|v| {
                    let path = v.as_str().unwrap_or_else(|| fail("expected a path"));
                    std::fs::read(path).unwrap_or_else(|e| fail(&format!("{path}: {e}")))
                })
                .collect();
            let encoder = ImageEncoder::load(Path::new(model_dir)).unwrap_or_else(|e| fail(&e.to_string()));
            let embed = |bytes: &Vec<u8>| {
                encoder
                    .embed(bytes, DEFAULT_MAX_IMAGE_PIXELS)
                    .unwrap_or_else(|e| fail(&e.to_string()));
            };
            let warm_up = || images.iter().take(1).for_each(embed);
            match batch {
                [] if *workload == "image" => report("image", images.len(), warm_up, || images.iter().for_each(embed)),
                [n] if *workload == "image-batch" => {
                    let n: usize = n.parse().ok().filter(|&n| n > 0).unwrap_or_else(|| fail("N must be a positive number"));
                    let images: Vec<&[u8]> = images.iter().map(Vec::as_slice).collect();
                    report("image-batch", images.len(), warm_up, || {
                        for chunk in images.chunks(n) {
                            let inputs = preprocess_images(chunk, DEFAULT_MAX_IMAGE_PIXELS)
                                .unwrap_or_else(|(i, e)| fail(&format!("image {}: {e}", i + 1)));
                            encoder.embed_preprocessed(&inputs).unwrap_or_else(|e| fail(&e.to_string()));
                        }
                    });
                }
                _ => fail("usage: retailml-bench image MODEL_DIR photos.jsonl | image-batch MODEL_DIR photos.jsonl N"),
            }
        }
        ["forecast", input] => {
            let series: Vec<(Vec<Option<f64>>, usize, usize)> = read_lines(input)
                .iter()
                .map(|v| {
                    let train = numbers(&v["train"]).into_iter().map(Some).collect();
                    let count = |k: &str| v[k].as_u64().unwrap_or_else(|| fail(k)) as usize;
                    (train, count("horizon"), count("period"))
                })
                .collect();
            let forecast = |(train, horizon, period): &(Vec<Option<f64>>, usize, usize)| {
                let options = retailml_forecast::Options {
                    season_length: Some(*period),
                    ..retailml_forecast::Options::new(*horizon)
                };
                retailml_forecast::forecast(train, &options)
                    .unwrap_or_else(|e| fail(&e.to_string()));
            };
            report(
                "forecast",
                series.len(),
                || series.iter().take(1).for_each(forecast),
                || series.iter().for_each(forecast),
            );
        }
        ["segment", input, k] => {
            let rows: Vec<Vec<Option<f64>>> = read_lines(input)
                .iter()
                .map(|v| numbers(v).into_iter().map(Some).collect())
                .collect();
            let k: usize = k.parse().unwrap_or_else(|_| fail("k must be a number"));
            // Standardising is part of the work, as in scikit-learn's pipeline.
            let segment = || {
                let table = retailml_segment::features::Table::numeric(&rows);
                let options = retailml_segment::features::Options::default();
                let (_, encoded) = retailml_segment::features::Encoder::fit(&table, &options, &|| {})
                    .unwrap_or_else(|e| fail(&e.to_string()));
                retailml_segment::segment(&encoded.x, encoded.cols, k, retailml_segment::DEFAULT_SEED, &|| {})
                    .unwrap_or_else(|e| fail(&e.to_string()));
            };
            report("segment", rows.len(), segment, segment);
        }
        _ => fail("usage: retailml-bench text|text-batch|image MODEL_DIR FILE | image-batch MODEL_DIR FILE N | forecast FILE | segment FILE K"),
    }
}
