//! Shared helpers for the integration tests.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};

use serde_json::Value;

/// RETAILML_MODEL_DIR, else <workspace>/models/cache/models. Panics (fails
/// the test) with the install command when the models are not there.
pub fn model_dir() -> PathBuf {
    let dir = match std::env::var_os("RETAILML_MODEL_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/cache/models"),
    };
    assert!(
        dir.join("all-minilm-l6-v2/model.safetensors").is_file()
            && dir.join("mobilenet-v2/model.safetensors").is_file(),
        "models not found in {}: run `bash models/fetch.sh models/cache/models` \
         from the workspace root (or set RETAILML_MODEL_DIR)",
        dir.display()
    );
    dir
}

pub fn data_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

pub fn read_data(rel: &str) -> Vec<u8> {
    let p = data_path(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

pub fn jsonl(rel: &str) -> Vec<Value> {
    String::from_utf8(read_data(rel))
        .expect("utf-8")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("valid json line"))
        .collect()
}

pub fn f32s(v: &Value) -> Vec<f32> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number") as f32)
        .collect()
}

pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len());
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum();
    dot / (norm(a) * norm(b))
}

pub fn norm(a: &[f32]) -> f64 {
    a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt()
}

pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Deterministic pseudo-random bytes (64-bit LCG, high bits).
pub fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 56) as u8
        })
        .collect()
}

/// Appends a PNG chunk with its length and CRC.
pub fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32fast::hash(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

pub fn argmax(v: &[f32]) -> usize {
    v.iter()
        .enumerate()
        .fold(0, |best, (i, x)| if *x > v[best] { i } else { best })
}

/// A text with the input ids and embedding a reference implementation gave it.
#[allow(dead_code)] // each test binary uses its own part of this module
pub struct TextReference {
    pub text: String,
    pub ids: Vec<u32>,
    pub embedding: Vec<f32>,
}

/// The rows of a reference file (text, input_ids, embedding), checking their count.
#[allow(dead_code)]
pub fn text_references(rel: &str, expected_rows: usize) -> Vec<TextReference> {
    let rows: Vec<TextReference> = jsonl(rel)
        .iter()
        .map(|r| TextReference {
            text: r["text"].as_str().expect("text").to_string(),
            ids: r["input_ids"]
                .as_array()
                .expect("ids")
                .iter()
                .map(|v| v.as_u64().expect("id") as u32)
                .collect(),
            embedding: f32s(&r["embedding"]),
        })
        .collect();
    assert_eq!(rows.len(), expected_rows, "{rel}");
    rows
}
