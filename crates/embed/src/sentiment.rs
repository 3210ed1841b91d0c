//! The review-sentiment heads: logistic regression on a text embedding,
//! optionally together with hashed character n-grams of the text, trained
//! by `make sentiment-head` (models/train) and installed as JSON.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::EmbedError;

/// Subdirectory of the model directory holding the head on all-minilm-l6-v2.
pub const SENTIMENT_HEAD_SUBDIR: &str = "review-sentiment";

/// Subdirectory of the model directory holding the head on multilingual-e5-small.
pub const MULTILINGUAL_SENTIMENT_HEAD_SUBDIR: &str = "review-sentiment-multilingual";

/// Characters of a review whose n-grams are counted: the embedding models
/// read at most 512 pieces, and a 1 MB review must stay cheap.
pub const NGRAM_MAX_CHARS: usize = 4096;

/// The most hash buckets a head may use (4 MB of weights).
const MAX_NGRAM_BUCKETS: usize = 1 << 20;

#[derive(Deserialize)]
struct HeadFile {
    embedding_model: String,
    weights: Vec<f32>,
    bias: f32,
    char_ngrams: Option<NgramFile>,
}

#[derive(Deserialize)]
struct NgramFile {
    buckets: usize,
    /// (bucket, weight) for every bucket with a non-zero weight.
    weights: Vec<(usize, f32)>,
}

/// P(positive | review) = sigmoid(w·embedding + v·ngrams(review) + b), where
/// ngrams(review) is `char_ngram_features` (absent for the English head).
pub struct SentimentHead {
    weights: Vec<f32>,
    bias: f32,
    ngram_weights: Option<Vec<f32>>,
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
        let ngram_weights = match head.char_ngrams {
            None => None,
            Some(ngrams) => {
                if ngrams.buckets == 0 || ngrams.buckets > MAX_NGRAM_BUCKETS {
                    return Err(EmbedError::corrupt(&path, "n-gram buckets out of range"));
                }
                let mut dense = vec![0f32; ngrams.buckets];
                for (bucket, w) in ngrams.weights {
                    if bucket >= ngrams.buckets || !w.is_finite() {
                        return Err(EmbedError::corrupt(&path, "n-gram weight out of range"));
                    }
                    dense[bucket] = w;
                }
                Some(dense)
            }
        };
        Ok(SentimentHead { weights: head.weights, bias: head.bias, ngram_weights })
    }

    /// The probability that `review`, whose embedding is `embedding`, is positive.
    pub fn probability(&self, review: &str, embedding: &[f32]) -> f32 {
        let mut z = self.bias as f64
            + self.weights.iter().zip(embedding).map(|(&w, &x)| w as f64 * x as f64).sum::<f64>();
        if let Some(ngram_weights) = &self.ngram_weights {
            let (buckets, value) = char_ngram_features(review, ngram_weights.len());
            z += buckets.iter().map(|&b| ngram_weights[b as usize] as f64).sum::<f64>() * value;
        }
        (1.0 / (1.0 + (-z).exp())) as f32
    }
}

/// The character unigrams and bigrams of `text` as a bag of hashed
/// features: the distinct buckets (of `buckets`) they fall in, ascending,
/// and the value each of them has, 1/sqrt(count), so the feature vector has
/// unit length like the embedding. Letters are lowercased and runs of
/// whitespace count as one space; only the first `NGRAM_MAX_CHARS`
/// characters are read. Character n-grams need no word segmentation, which
/// Chinese text does not have.
pub fn char_ngram_features(text: &str, buckets: usize) -> (Vec<u32>, f64) {
    let mut chars: Vec<char> = Vec::new();
    for c in text.trim().chars().take(NGRAM_MAX_CHARS) {
        if c.is_whitespace() {
            if chars.last() != Some(&' ') {
                chars.push(' ');
            }
        } else {
            chars.extend(c.to_lowercase());
        }
    }
    let mut found: Vec<u32> = (0..chars.len())
        .flat_map(|i| [&chars[i..i + 1], &chars[i..(i + 2).min(chars.len())]])
        .filter(|gram| !gram.is_empty())
        .map(|gram| (fnv1a(gram) % buckets as u64) as u32)
        .collect();
    found.sort_unstable();
    found.dedup();
    let value = if found.is_empty() { 0.0 } else { 1.0 / (found.len() as f64).sqrt() };
    (found, value)
}

/// 64-bit FNV-1a over the UTF-8 bytes of `gram`: fixed, so the buckets a
/// trained head expects never depend on the platform or a library version.
fn fnv1a(gram: &[char]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut buf = [0u8; 4];
    for c in gram {
        for &byte in c.encode_utf8(&mut buf).as_bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
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
    use super::{char_ngram_features, fnv1a, mostly_non_latin};

    #[test]
    fn script_detection() {
        assert!(mostly_non_latin("这个咖啡很好喝"));
        assert!(mostly_non_latin("Очень вкусно"));
        assert!(mostly_non_latin("iPhone 壳很好用，质量不错"));
        assert!(!mostly_non_latin("Très bon café, déjà commandé"));
        assert!(!mostly_non_latin("Great coffee 好"));
        assert!(!mostly_non_latin("12345 !!!"));
    }

    #[test]
    fn fnv1a_is_the_published_function() {
        // FNV-1a 64 test vectors: "" and "a"
        assert_eq!(fnv1a(&[]), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(&['a']), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn ngrams_are_distinct_hashed_and_unit_length() {
        // "ab  A": a, ab, b, "b ", " ", " a", a again -> 6 distinct grams
        let (buckets, value) = char_ngram_features("ab \t A", 1 << 20);
        assert_eq!(buckets.len(), 6);
        assert!(buckets.windows(2).all(|w| w[0] < w[1]));
        assert!((value * value * buckets.len() as f64 - 1.0).abs() < 1e-12);
        assert_eq!(char_ngram_features("   ", 16), (vec![], 0.0));
        // one character is one unigram, no bigram
        assert_eq!(char_ngram_features("好", 1 << 20).0.len(), 1);
        // only the first NGRAM_MAX_CHARS characters count
        let long = "好".repeat(10_000_000 / 3);
        assert_eq!(char_ngram_features(&long, 64).0.len(), 2);
    }
}
