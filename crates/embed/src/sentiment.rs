//! The review-sentiment head: logistic regression on a text embedding,
//! trained by `make sentiment-head` (models/train) and installed as JSON.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::EmbedError;

/// Subdirectory of the model directory holding the head on all-minilm-l6-v2.
pub const SENTIMENT_HEAD_SUBDIR: &str = "review-sentiment";

/// Subdirectory of the model directory holding the head on multilingual-e5-small.
pub const MULTILINGUAL_SENTIMENT_HEAD_SUBDIR: &str = "review-sentiment-multilingual";

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
    /// The head `model_dir/{head}/head.json`, checked to be for embeddings
    /// of `embedding_model` (a model subdirectory name) of width `dim`.
    pub fn load(model_dir: &Path, head: &str, embedding_model: &str, dim: usize) -> Result<Self, EmbedError> {
        let path: PathBuf = model_dir.join(head).join("head.json");
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

/// Whether most letters of `text` are in a script other than Latin, so that
/// the English model would not understand it. Latin is ASCII letters and
/// U+00C0 to U+024F (accented Latin); text with no letters counts as Latin.
pub fn mostly_non_latin(text: &str) -> bool {
    let (mut latin, mut other) = (0usize, 0usize);
    for c in text.chars().filter(|c| c.is_alphabetic()) {
        if c.is_ascii_alphabetic() || ('\u{c0}'..='\u{24f}').contains(&c) {
            latin += 1;
        } else {
            other += 1;
        }
    }
    other > latin
}

#[cfg(test)]
mod tests {
    use super::mostly_non_latin;

    #[test]
    fn script_detection() {
        assert!(mostly_non_latin("这个咖啡很好喝"));
        assert!(mostly_non_latin("Очень вкусно"));
        assert!(mostly_non_latin("iPhone 壳很好用，质量不错"));
        assert!(!mostly_non_latin("Très bon café, déjà commandé"));
        assert!(!mostly_non_latin("Great coffee 好"));
        assert!(!mostly_non_latin("12345 !!!"));
    }
}
