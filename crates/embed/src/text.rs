use std::path::{Path, PathBuf};

use tokenizers::{Tokenizer, TruncationParams};

use crate::bert::{Bert, BertConfig};
use crate::EmbedError;

/// Subdirectory of the model directory holding all-MiniLM-L6-v2.
pub const TEXT_MODEL_SUBDIR: &str = "all-minilm-l6-v2";

/// sentence-transformers' `max_seq_length` for this model, [CLS] and [SEP]
/// included. tokenizer.json says 128; sentence-transformers overrides it.
pub const MAX_TOKENS: usize = 256;

/// Tokens per forward pass in `embed_batch`: texts are packed end to end
/// (no padding), so this only bounds the working memory (about 40 KB per
/// token) while keeping the matrix products large.
const BATCH_TOKENS: usize = 4096;

/// `TextEmbedder::tokens_per_call`. On 1,024 Amazon reviews (91 tokens on
/// average), 2 threads: 58 texts/s and at most 0.45 s per call at 2,048
/// tokens, against 33 to 39 texts/s at 512 to 1,024 and 59 at 4,096 (0.82 s);
/// one thread is flat at 32 texts/s, 0.91 s per call at 2,048.
const TOKENS_PER_CALL: usize = 2048;

/// all-MiniLM-L6-v2: BERT, mean pooling over the attention mask, L2 norm.
pub struct TextEncoder {
    tokenizer: Tokenizer,
    model: Bert,
    dim: usize,
}

impl TextEncoder {
    /// Load from `model_dir/all-minilm-l6-v2/{config.json,tokenizer.json,model.safetensors}`.
    pub fn load(model_dir: &Path) -> Result<Self, EmbedError> {
        let dir = model_dir.join(TEXT_MODEL_SUBDIR);
        let config_path = existing(dir.join("config.json"))?;
        let tokenizer_path = existing(dir.join("tokenizer.json"))?;
        let weights_path = existing(dir.join("model.safetensors"))?;

        let config_text = std::fs::read_to_string(&config_path)
            .map_err(|e| EmbedError::corrupt(&config_path, e))?;
        let config: BertConfig =
            serde_json::from_str(&config_text).map_err(|e| EmbedError::corrupt(&config_path, e))?;

        let mut tokenizer = Tokenizer::from_file(&tokenizer_path)
            .map_err(|e| EmbedError::corrupt(&tokenizer_path, e))?;
        // tokenizer.json carries truncation 128 and fixed padding 128; the
        // reference (sentence-transformers) truncates at 256 and pads per batch
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(|e| EmbedError::corrupt(&tokenizer_path, e))?;
        tokenizer.with_padding(None);

        let model = Bert::load(&config, &weights_path)?;
        if model.max_positions() < MAX_TOKENS {
            return Err(EmbedError::corrupt(&config_path, "fewer than 256 positions"));
        }

        Ok(TextEncoder {
            tokenizer,
            model,
            dim: config.hidden_size,
        })
    }

    /// Embedding width (384).
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The input ids the model sees for `text`: [CLS] ... [SEP], at most 256.
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>, EmbedError> {
        let encoding = self
            .tokenizer
            .encode(leading_part(py_strip(text)), true)
            .map_err(|e| EmbedError::internal(format!("tokenizer failed: {e}")))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// Unit-length embeddings of texts already turned into `token_ids`.
    pub fn embed_token_ids(&self, ids: &[Vec<u32>]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.model.embed_in_batches(ids, BATCH_TOKENS)
    }
}

impl crate::TextEmbedder for TextEncoder {
    fn dim(&self) -> usize {
        TextEncoder::dim(self)
    }

    fn token_ids(&self, text: &str) -> Result<Vec<u32>, EmbedError> {
        TextEncoder::token_ids(self, text)
    }

    fn embed_token_ids(&self, ids: &[Vec<u32>]) -> Result<Vec<Vec<f32>>, EmbedError> {
        TextEncoder::embed_token_ids(self, ids)
    }

    fn tokens_per_call(&self) -> usize {
        TOKENS_PER_CALL
    }
}

/// The tokenizer reads the whole text before truncating to 256 ids, which
/// takes seconds for a 10 MB text and cannot be interrupted. 254 word pieces
/// never need more than this many bytes unless the text is mostly
/// whitespace, control characters or words of over 100 characters.
const MAX_TEXT_BYTES: usize = 64 * 1024;

pub(crate) fn leading_part(text: &str) -> &str {
    if text.len() <= MAX_TEXT_BYTES {
        return text;
    }
    let mut end = MAX_TEXT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

pub(crate) fn existing(path: PathBuf) -> Result<PathBuf, EmbedError> {
    if path.is_file() {
        Ok(path)
    } else {
        Err(EmbedError::ModelMissing { path })
    }
}

/// Python's `str.strip()`: Unicode White_Space plus U+001C..U+001F, which
/// Python also counts as whitespace and Rust's `trim` does not.
pub(crate) fn py_strip(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::py_strip;

    #[test]
    fn strip_matches_python() {
        assert_eq!(py_strip(" \t\u{a0}a b\u{3000}\u{1f}\r\n"), "a b");
        // zero-width space and BOM are not whitespace in Python
        assert_eq!(py_strip("\u{200b}a\u{feff}"), "\u{200b}a\u{feff}");
        assert_eq!(py_strip("   "), "");
    }
}
