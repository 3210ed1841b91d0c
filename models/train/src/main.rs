//! Trains the review-sentiment head: logistic regression on all-MiniLM-L6-v2
//! embeddings of public labelled reviews. Run by `make sentiment-head`
//! (models/train-sentiment.sh), which fetches and checks the data first.
//!
//!     retailml-train MODEL MODEL_DIR reviews.jsonl sources.json OUT.json
//!
//! MODEL is the text model whose embeddings the head reads:
//! all-minilm-l6-v2 (the English head) or multilingual-e5-small.
//! reviews.jsonl has one {"text", "label" (0/1), "corpus", "split"} per line,
//! split being "train" or "test"; sources.json describes where the data came
//! from and is copied into the head. The regularisation strength is chosen
//! on a fixed fifth of the training rows, then the head is refitted on all
//! of them. Nothing is random: the same inputs give the same file.

mod logistic;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::exit;

use retailml_embed::{E5Encoder, TextEmbedder, TextEncoder, E5_MODEL_SUBDIR, TEXT_MODEL_SUBDIR};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
struct Review {
    text: String,
    label: u8,
    corpus: String,
    split: String,
}

const LAMBDAS: [f64; 5] = [0.01, 0.1, 1.0, 10.0, 100.0];

fn fail(message: &str) -> ! {
    eprintln!("retailml-train: {message}");
    exit(2)
}

fn accuracy(model: &logistic::Logistic, x: &[Vec<f64>], y: &[bool]) -> f64 {
    let right = x.iter().zip(y).filter(|(xi, &yi)| (model.probability(xi) >= 0.5) == yi).count();
    right as f64 / x.len().max(1) as f64
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [model_name, model_dir, reviews, sources, out] = args.as_slice() else {
        fail("usage: retailml-train MODEL MODEL_DIR reviews.jsonl sources.json OUT.json")
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
    let x: Vec<Vec<f64>> = embeddings.iter().map(|e| e.iter().map(|&v| v as f64).collect()).collect();
    let y: Vec<bool> = reviews.iter().map(|r| r.label == 1).collect();

    let rows = |keep: &dyn Fn(usize, &Review) -> bool| -> (Vec<Vec<f64>>, Vec<bool>) {
        let chosen: Vec<usize> = (0..reviews.len()).filter(|&i| keep(i, &reviews[i])).collect();
        (chosen.iter().map(|&i| x[i].clone()).collect(), chosen.iter().map(|&i| y[i]).collect())
    };
    let train = |r: &Review| r.split == "train";
    let (fit_x, fit_y) = rows(&|i, r| train(r) && i % 5 != 0);
    let (val_x, val_y) = rows(&|i, r| train(r) && i % 5 == 0);
    let mut best = (f64::NEG_INFINITY, LAMBDAS[0]);
    for lambda in LAMBDAS {
        let a = accuracy(&logistic::fit(&fit_x, &fit_y, lambda), &val_x, &val_y);
        eprintln!("lambda {lambda}: validation accuracy {a:.4}");
        if a > best.0 {
            best = (a, lambda);
        }
    }
    let lambda = best.1;
    let (train_x, train_y) = rows(&|_, r| train(r));
    let model = logistic::fit(&train_x, &train_y, lambda);

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
    let head = json!({
        "embedding_model": model_name,
        "dimensions": model.weights.len(),
        "method": "L2-regularised logistic regression on the unit-length embedding, Newton's method from zero",
        "lambda": lambda,
        "weights": model.weights.iter().map(|&w| w as f32).collect::<Vec<_>>(),
        "bias": model.bias as f32,
        "training_rows": counts,
        "held_out": held_out,
        "sources": sources,
        "trained_by": "make sentiment-head",
    });
    let text = serde_json::to_string_pretty(&head).unwrap_or_else(|e| fail(&e.to_string()));
    std::fs::write(out, text + "\n").unwrap_or_else(|e| fail(&format!("{out}: {e}")));
}
