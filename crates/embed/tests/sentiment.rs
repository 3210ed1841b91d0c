//! The committed review-sentiment head on sentences it was not trained on.

mod common;

use common::{jsonl, model_dir};
use retailml_embed::{EmbedError, SentimentHead, TextEncoder, TEXT_MODEL_SUBDIR};

#[test]
fn held_out_uci_accuracy_is_at_least_0_85() {
    let dir = model_dir();
    let encoder = TextEncoder::load(&dir).unwrap();
    let head = SentimentHead::load(&dir, TEXT_MODEL_SUBDIR, encoder.dim()).unwrap();
    let rows = jsonl("uci_sentences_held_out.jsonl");
    let texts: Vec<&str> = rows.iter().map(|r| r["text"].as_str().unwrap()).collect();
    let embeddings = encoder.embed_batch(&texts).unwrap();
    let right = rows
        .iter()
        .zip(&embeddings)
        .filter(|(r, e)| (head.probability(e) >= 0.5) == (r["label"].as_u64() == Some(1)))
        .count();
    let accuracy = right as f64 / rows.len() as f64;
    println!("sentiment: held-out UCI accuracy {accuracy:.4} on {} sentences", rows.len());
    assert_eq!(rows.len(), 600);
    assert!(accuracy >= 0.85, "accuracy {accuracy}");
}

#[test]
fn probabilities_are_ordered_and_in_range() {
    let dir = model_dir();
    let encoder = TextEncoder::load(&dir).unwrap();
    let head = SentimentHead::load(&dir, TEXT_MODEL_SUBDIR, encoder.dim()).unwrap();
    let p = |t: &str| head.probability(&encoder.embed(t).unwrap());
    let (good, bad) = (p("Absolutely delicious, I will buy it again"), p("Stale, tasteless and overpriced"));
    assert!((0.0..=1.0).contains(&good) && (0.0..=1.0).contains(&bad));
    assert!(good > 0.5 && bad < 0.5, "good {good}, bad {bad}");
}

#[test]
fn a_head_for_another_model_is_refused() {
    let dir = model_dir();
    let e = SentimentHead::load(&dir, "some-other-model", 384).err().unwrap();
    assert!(matches!(e, EmbedError::ModelCorrupt { .. }), "{e:?}");
    let e = SentimentHead::load(std::path::Path::new("/nonexistent"), TEXT_MODEL_SUBDIR, 384).err().unwrap();
    assert!(matches!(e, EmbedError::ModelMissing { .. }), "{e:?}");
}
