//! Throughput on the reference inputs (40 texts, 7 images).
//!
//!     cargo run --release -p retailml-embed --example throughput [MODEL_DIR]
//!
//! Threads follow RAYON_NUM_THREADS (candle's matmuls); set it to 1 for a
//! single-core figure. Each measurement is the best of 3 rounds.

use std::path::PathBuf;
use std::time::Instant;

use retailml_embed::{ImageEncoder, TextEmbedder, TextEncoder, DEFAULT_MAX_IMAGE_PIXELS};

fn best_of_3(mut f: impl FnMut()) -> f64 {
    (0..3)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let model_dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("RETAILML_MODEL_DIR").map(PathBuf::from))
        .unwrap_or_else(|| here.join("../../models/cache/models"));
    let data = here.join("tests/data");

    let texts: Vec<String> = std::fs::read_to_string(data.join("minilm_l6_v2.jsonl"))
        .expect("reference texts")
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("json")["text"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();

    let t = Instant::now();
    let text = TextEncoder::load(&model_dir).unwrap_or_else(|e| panic!("{e}"));
    println!("text model load: {:.3} s", t.elapsed().as_secs_f64());
    let one = best_of_3(|| {
        for s in &texts {
            text.embed(s).unwrap();
        }
    });
    println!("text, one by one: {:.1} texts/s", texts.len() as f64 / one);
    let batch = best_of_3(|| {
        text.embed_batch(&texts).unwrap();
    });
    println!(
        "text, embed_batch: {:.1} texts/s",
        texts.len() as f64 / batch
    );

    let images: Vec<Vec<u8>> = std::fs::read_dir(data.join("images"))
        .expect("reference images")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jpg" || x == "png"))
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    let t = Instant::now();
    let image = ImageEncoder::load(&model_dir).unwrap_or_else(|e| panic!("{e}"));
    println!("image model load: {:.3} s", t.elapsed().as_secs_f64());
    let prep = best_of_3(|| {
        for b in &images {
            retailml_embed::preprocess_image(b, DEFAULT_MAX_IMAGE_PIXELS).unwrap();
        }
    });
    let all = best_of_3(|| {
        for b in &images {
            image.embed(b, DEFAULT_MAX_IMAGE_PIXELS).unwrap();
        }
    });
    println!(
        "images: {:.1} images/s ({:.1} ms decode+preprocess, {:.1} ms network per image)",
        images.len() as f64 / all,
        1e3 * prep / images.len() as f64,
        1e3 * (all - prep) / images.len() as f64
    );
}
