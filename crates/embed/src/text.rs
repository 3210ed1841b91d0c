use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{Tokenizer, TruncationParams};

use crate::EmbedError;

/// Subdirectory of the model directory holding all-MiniLM-L6-v2.
pub const TEXT_MODEL_SUBDIR: &str = "all-minilm-l6-v2";

/// sentence-transformers' `max_seq_length` for this model, [CLS] and [SEP]
/// included. tokenizer.json says 128; sentence-transformers overrides it.
pub const MAX_TOKENS: usize = 256;

/// At most this many texts per forward pass in `embed_batch`.
const BATCH_CHUNK: usize = 32;

/// Padded tokens (texts x longest) per forward pass in `embed_batch`.
/// Measured on the reference texts: batching helps short texts, but candle's
/// CPU attention gets slower per token as batches grow, so keep them small.
const BATCH_TOKENS: usize = 256;

/// all-MiniLM-L6-v2: BERT, mean pooling over the attention mask, L2 norm.
pub struct TextEncoder {
    tokenizer: Tokenizer,
    model: BertModel,
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
        let config: Config =
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

        // SAFETY: the mapping only lives while the weights are copied out in
        // BertModel::load. fetch.sh installs files by rename, so a file is never
        // rewritten in place under a reader.
        let vb = unsafe {
            VarBuilder::from_mmaped_safetensors(&[&weights_path], DType::F32, &Device::Cpu)
        }
        .map_err(|e| EmbedError::corrupt(&weights_path, e))?;
        let model =
            BertModel::load(vb, &config).map_err(|e| EmbedError::corrupt(&weights_path, e))?;

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

    /// Unit-length embedding of one text.
    pub fn embed(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        let ids = self.token_ids(text)?;
        let mut out = self.forward(&[ids])?;
        out.pop()
            .ok_or_else(|| EmbedError::internal("empty forward output"))
    }

    /// Unit-length embeddings of many texts, in input order.
    ///
    /// Texts run longest first, in chunks of similar length whose padded
    /// size stays within a token budget, so short texts never pay for long ones.
    pub fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let ids = texts
            .iter()
            .map(|t| self.token_ids(t))
            .collect::<Result<Vec<_>, _>>()?;
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(ids[i].len()));

        let mut out = vec![Vec::new(); ids.len()];
        let mut rest = &order[..];
        while let Some(&first) = rest.first() {
            // the first (longest) text sets the padded length of the chunk
            let fit = (BATCH_TOKENS / ids[first].len())
                .clamp(1, BATCH_CHUNK)
                .min(rest.len());
            let (chunk, tail) = rest.split_at(fit);
            let batch: Vec<Vec<u32>> = chunk.iter().map(|&i| ids[i].clone()).collect();
            for (&i, v) in chunk.iter().zip(self.forward(&batch)?) {
                out[i] = v;
            }
            rest = tail;
        }
        Ok(out)
    }

    /// BERT over a right-padded batch, then masked mean pooling and L2 norm.
    fn forward(&self, batch: &[Vec<u32>]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let n = batch.len();
        let len = batch.iter().map(Vec::len).max().unwrap_or(0);
        let mut ids = vec![0u32; n * len];
        let mut mask = vec![0u32; n * len];
        for (row, seq) in batch.iter().enumerate() {
            ids[row * len..row * len + seq.len()].copy_from_slice(seq);
            mask[row * len..row * len + seq.len()].fill(1);
        }
        self.run(ids, mask, n, len)
            .map_err(|e| EmbedError::internal(format!("text model failed: {e}")))
    }

    fn run(
        &self,
        ids: Vec<u32>,
        mask: Vec<u32>,
        n: usize,
        len: usize,
    ) -> candle_core::Result<Vec<Vec<f32>>> {
        let dev = Device::Cpu;
        let ids = Tensor::from_vec(ids, (n, len), &dev)?;
        let mask = Tensor::from_vec(mask, (n, len), &dev)?;
        let token_types = ids.zeros_like()?;
        let hidden = self.model.forward(&ids, &token_types, Some(&mask))?; // (n, len, dim)

        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?; // (n, len, 1)
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?; // (n, dim)
        let counts = mask.sum(1)?.clamp(1e-9f32, f32::MAX)?; // (n, 1)
        let mean = summed.broadcast_div(&counts)?;
        // torch.nn.functional.normalize: x / max(||x||, 1e-12)
        let norms = mean
            .sqr()?
            .sum_keepdim(1)?
            .sqrt()?
            .clamp(1e-12f32, f32::MAX)?;
        let mut rows = mean.broadcast_div(&norms)?.to_vec2::<f32>()?;
        rows.iter_mut().for_each(|row| crate::flush_tiny(row));
        Ok(rows)
    }
}

/// The tokenizer reads the whole text before truncating to 256 ids, which
/// takes seconds for a 10 MB text and cannot be interrupted. 254 word pieces
/// never need more than this many bytes unless the text is mostly
/// whitespace, control characters or words of over 100 characters.
const MAX_TEXT_BYTES: usize = 64 * 1024;

fn leading_part(text: &str) -> &str {
    if text.len() <= MAX_TEXT_BYTES {
        return text;
    }
    let mut end = MAX_TEXT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn existing(path: PathBuf) -> Result<PathBuf, EmbedError> {
    if path.is_file() {
        Ok(path)
    } else {
        Err(EmbedError::ModelMissing { path })
    }
}

/// Python's `str.strip()`: Unicode White_Space plus U+001C..U+001F, which
/// Python also counts as whitespace and Rust's `trim` does not.
fn py_strip(text: &str) -> &str {
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
