//! The review-sentiment head: logistic regression on a text embedding,
//! trained by `make sentiment-head` (models/train) and installed as JSON.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::EmbedError;

/// Subdirectory of the model directory holding the head.
pub const SENTIMENT_HEAD_SUBDIR: &str = "review-sentiment";

#[derive(Deserialize)]
struct HeadFile {
    embedding_model: String,
    weights: Vec<f32>,
    bias: f32,
}

/// P(positive | review) = sigmoid(w·embedding + b).
pub struct SentimentHead {
    weights: Vec<f32>,
    bias: f32,
}

impl SentimentHead {
    /// The head for embeddings of `embedding_model` (a model subdirectory
    /// name) and width `dim`, from `model_dir/review-sentiment/head.json`.
    pub fn load(model_dir: &Path, embedding_model: &str, dim: usize) -> Result<Self, EmbedError> {
        let path: PathBuf = model_dir.join(SENTIMENT_HEAD_SUBDIR).join("head.json");
        if !path.is_file() {
            return Err(EmbedError::ModelMissing { path });
        }
        let text = std::fs::read_to_string(&path).map_err(|e| EmbedError::corrupt(&path, e))?;
        let head: HeadFile = serde_json::from_str(&text).map_err(|e| EmbedError::corrupt(&path, e))?;
        if head.embedding_model != embedding_model {
            return Err(EmbedError::corrupt(
                &path,
                format!("trained on {} embeddings, not {embedding_model}", head.embedding_model),
            ));
        }
        if head.weights.len() != dim || !head.bias.is_finite() || head.weights.iter().any(|w| !w.is_finite()) {
            return Err(EmbedError::corrupt(&path, format!("expected {dim} finite weights")));
        }
        Ok(SentimentHead { weights: head.weights, bias: head.bias })
    }

    /// The probability that the review with this embedding is positive.
    pub fn probability(&self, embedding: &[f32]) -> f32 {
        let z = self.bias as f64
            + self.weights.iter().zip(embedding).map(|(&w, &x)| w as f64 * x as f64).sum::<f64>();
        (1.0 / (1.0 + (-z).exp())) as f32
    }
}
