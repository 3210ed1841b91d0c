//! Trains a review-sentiment head: logistic regression on the text
//! embeddings of public labelled reviews, optionally together with their
//! hashed character n-grams. Run by `make sentiment-head`
//! (models/train-sentiment.sh), which fetches and checks the data first.
//!
//!     retailml-train MODEL MODEL_DIR reviews.jsonl sources.json OUT.json [NGRAM_BUCKETS]
//!
//! MODEL is the text model whose embeddings the head reads:
//! all-minilm-l6-v2 (the English head) or multilingual-e5-small.
//! NGRAM_BUCKETS, when given, adds `char_ngram_features` hashed into that
//! many buckets.
//! reviews.jsonl has one {"text", "label" (0/1), "corpus", "split"} per line,
//! split being "train" or "test"; sources.json describes where the data came
//! from and is copied into the head. The regularisation strength is chosen
//! on a fixed fifth of the training rows, then the head is refitted on all
//! of them. Nothing is random: the same inputs give the same file.

mod logistic;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::exit;

use logistic::{Logistic, Row};
use retailml_embed::{
    char_ngram_features, E5Encoder, TextEmbedder, TextEncoder, E5_MODEL_SUBDIR, NGRAM_MAX_CHARS, TEXT_MODEL_SUBDIR,
};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
struct Review {
    text: String,
    label: u8,
    corpus: String,
    split: String,
}

// A factor of about 3 between neighbours.
const LAMBDAS: [f64; 9] = [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0];

fn fail(message: &str) -> ! {
    eprintln!("retailml-train: {message}");
    exit(2)
}

fn accuracy(model: &Logistic, x: &[Row], y: &[bool]) -> f64 {
    let right = x.iter().zip(y).filter(|(xi, &yi)| (model.probability(xi) >= 0.5) == yi).count();
    right as f64 / x.len().max(1) as f64
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (model_name, model_dir, reviews, sources, out, ngram_buckets) = match args.as_slice() {
        [m, d, r, s, o] => (m, d, r, s, o, None),
        [m, d, r, s, o, b] => (m, d, r, s, o, Some(b.parse::<usize>().unwrap_or_else(|e| fail(&format!("{b}: {e}"))))),
        _ => fail("usage: retailml-train MODEL MODEL_DIR reviews.jsonl sources.json OUT.json [NGRAM_BUCKETS]"),
    };
    let reviews: Vec<Review> = std::fs::read_to_string(reviews)
        .unwrap_or_else(|e| fail(&format!("{reviews}: {e}")))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| fail(&format!("{reviews}: {e}"))))
        .collect();
    let sources: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(sources).unwrap_or_else(|e| fail(&format!("{sources}: {e}"))),
    )
    .unwrap_or_else(|e| fail(&format!("{sources}: {e}")));

    let dir = Path::new(model_dir);
    let encoder: Box<dyn TextEmbedder> = match model_name.as_str() {
        TEXT_MODEL_SUBDIR => Box::new(TextEncoder::load(dir).unwrap_or_else(|e| fail(&e.to_string()))),
        E5_MODEL_SUBDIR => Box::new(E5Encoder::load(dir).unwrap_or_else(|e| fail(&e.to_string()))),
        other => fail(&format!("unknown model {other}")),
    };
    eprintln!("embedding {} reviews", reviews.len());
    let texts: Vec<&str> = reviews.iter().map(|r| r.text.as_str()).collect();
    let embeddings = encoder.embed_batch(&texts).unwrap_or_else(|e| fail(&e.to_string()));
    let dim = encoder.dim();
    // features 0..dim are the embedding, dim.. the n-gram buckets
    let x: Vec<Row> = reviews
        .iter()
        .zip(&embeddings)
        .map(|(r, e)| {
            let mut row: Row = e.iter().map(|&v| v as f64).enumerate().collect();
            if let Some(buckets) = ngram_buckets {
                let (found, value) = char_ngram_features(&r.text, buckets);
                row.extend(found.iter().map(|&b| (dim + b as usize, value)));
            }
            row
        })
        .collect();
    let features = dim + ngram_buckets.unwrap_or(0);
    let y: Vec<bool> = reviews.iter().map(|r| r.label == 1).collect();

    let rows = |keep: &dyn Fn(usize, &Review) -> bool| -> (Vec<Row>, Vec<bool>) {
        let chosen: Vec<usize> = (0..reviews.len()).filter(|&i| keep(i, &reviews[i])).collect();
        (chosen.iter().map(|&i| x[i].clone()).collect(), chosen.iter().map(|&i| y[i]).collect())
    };
    let train = |r: &Review| r.split == "train";
    let (fit_x, fit_y) = rows(&|i, r| train(r) && i % 5 != 0);
    let (val_x, val_y) = rows(&|i, r| train(r) && i % 5 == 0);
    let mut best = (f64::NEG_INFINITY, LAMBDAS[0]);
    for lambda in LAMBDAS {
        let a = accuracy(&logistic::fit(&fit_x, &fit_y, features, lambda), &val_x, &val_y);
        eprintln!("lambda {lambda}: validation accuracy {a:.4}");
        if a > best.0 {
            best = (a, lambda);
        }
    }
    let lambda = best.1;
    let (train_x, train_y) = rows(&|_, r| train(r));
    let model = logistic::fit(&train_x, &train_y, features, lambda);

    let mut held_out = BTreeMap::new();
    let mut counts = BTreeMap::new();
    let corpora: std::collections::BTreeSet<&str> = reviews.iter().map(|r| r.corpus.as_str()).collect();
    for corpus in corpora {
        let (tx, ty) = rows(&|_, r| r.corpus == corpus && r.split == "test");
        let (nx, _) = rows(&|_, r| r.corpus == corpus && r.split == "train");
        held_out.insert(corpus.to_string(), json!({"rows": tx.len(), "accuracy": accuracy(&model, &tx, &ty)}));
        counts.insert(corpus.to_string(), nx.len());
        eprintln!("{corpus}: held-out accuracy {:.4} on {} rows", accuracy(&model, &tx, &ty), tx.len());
    }
    let mut head = json!({
        "embedding_model": model_name,
        "dimensions": dim,
        "method": "L2-regularised logistic regression on the unit-length embedding (and the unit-length \
                   n-gram vector, if any), Newton's method with conjugate-gradient steps from zero",
        "lambda": lambda,
        "weights": model.weights[..dim].iter().map(|&w| w as f32).collect::<Vec<_>>(),
        "bias": model.bias as f32,
        "training_rows": counts,
        "held_out": held_out,
        "sources": sources,
        "trained_by": "make sentiment-head",
    });
    if let Some(buckets) = ngram_buckets {
        // only buckets some training review has get a weight other than 0
        let used: Vec<(usize, f32)> = model.weights[dim..]
            .iter()
            .enumerate()
            .filter(|&(_, &w)| w != 0.0)
            .map(|(b, &w)| (b, w as f32))
            .collect();
        head["char_ngrams"] = json!({
            "features": "distinct character unigrams and bigrams of the lowercased review, whitespace runs as \
                         one space, hashed by 64-bit FNV-1a of their UTF-8 bytes modulo buckets",
            "max_chars": NGRAM_MAX_CHARS,
            "buckets": buckets,
            "weights": used,
        });
    }
    let text = serde_json::to_string(&head).unwrap_or_else(|e| fail(&e.to_string()));
    std::fs::write(out, text + "\n").unwrap_or_else(|e| fail(&format!("{out}: {e}")));
}
