//! all-MiniLM-L6-v2 against sentence-transformers' reference outputs.

mod common;

use std::time::Instant;

use common::{cosine, max_abs_diff, model_dir, norm, text_references, TextReference};
use retailml_embed::{TextEmbedder, TextEncoder, MAX_TOKENS};

fn rows() -> Vec<TextReference> {
    text_references("minilm_l6_v2.jsonl", 40)
}

#[test]
fn token_ids_match_reference() {
    let enc = TextEncoder::load(&model_dir()).expect("load");
    for (i, row) in rows().iter().enumerate() {
        let ids = enc.token_ids(&row.text).expect("tokenize");
        assert_eq!(ids, row.ids, "row {i}: {:?}", row.text);
        assert!(ids.len() <= MAX_TOKENS);
    }
}

#[test]
fn embeddings_match_reference() {
    let enc = TextEncoder::load(&model_dir()).expect("load");
    assert_eq!(enc.dim(), 384);
    let rows = rows();
    let (mut min_cos, mut max_diff) = (1.0f64, 0.0f32);
    let start = Instant::now();
    for (i, row) in rows.iter().enumerate() {
        let v = enc.embed(&row.text).expect("embed");
        assert_eq!(v.len(), 384);
        assert!((norm(&v) - 1.0).abs() < 1e-5, "row {i}: norm {}", norm(&v));
        let c = cosine(&v, &row.embedding);
        assert!(c >= 0.999, "row {i}: cosine {c} for {:?}", row.text);
        min_cos = min_cos.min(c);
        max_diff = max_diff.max(max_abs_diff(&v, &row.embedding));
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "text: min cosine 1 - {:.1e}, max |delta| {max_diff:.2e}, {:.1} texts/s one by one",
        1.0 - min_cos,
        rows.len() as f64 / secs
    );
}

#[test]
fn batch_equals_one_by_one() {
    let enc = TextEncoder::load(&model_dir()).expect("load");
    let rows = rows();
    let texts: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
    let start = Instant::now();
    let batch = enc.embed_batch(&texts).expect("batch");
    println!(
        "text: {:.1} texts/s in one embed_batch",
        texts.len() as f64 / start.elapsed().as_secs_f64()
    );
    assert_eq!(batch.len(), texts.len());
    for (i, (text, v)) in texts.iter().zip(&batch).enumerate() {
        let single = enc.embed(text).expect("embed");
        let c = cosine(&single, v);
        assert!(c > 0.99999, "row {i}: batch vs single cosine {c}");
    }
    assert!(enc.embed_batch(&[]).expect("empty batch").is_empty());
}

#[test]
fn empty_and_whitespace_texts() {
    let enc = TextEncoder::load(&model_dir()).expect("load");
    assert_eq!(enc.token_ids("").unwrap(), vec![101, 102]);
    assert_eq!(enc.token_ids(" \t\n ").unwrap(), vec![101, 102]);
    let v = enc.embed("").unwrap();
    assert!((norm(&v) - 1.0).abs() < 1e-5);
    // a text far over the limit is cut to 256 ids, [SEP] last
    let long = "word ".repeat(2000);
    let ids = enc.token_ids(&long).unwrap();
    assert_eq!(ids.len(), MAX_TOKENS);
    assert_eq!((ids[0], ids[MAX_TOKENS - 1]), (101, 102));
}
