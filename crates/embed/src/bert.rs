//! A BERT encoder over packed sequences, on plain f32 slices.
//!
//! The texts of a batch are laid end to end as one matrix of tokens rather
//! than padded to the longest: the dense layers (nearly all of the work) then
//! run as a few large matrix products with no padding, and attention runs per
//! text and head. Matrix products go to the `gemm` crate (runtime-dispatched
//! SIMD kernels); row-wise steps run on rayon's current pool.

use std::ops::Range;
use std::path::Path;

use gemm::Parallelism;
use rayon::prelude::*;
use safetensors::SafeTensors;
use serde::Deserialize;

use crate::q4::Q4Matrix;
use crate::EmbedError;

/// The fields of a Hugging Face BERT config.json that the encoder uses.
#[derive(Debug, Clone, Deserialize)]
pub struct BertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    pub layer_norm_eps: f64,
    pub hidden_act: String,
}

/// y = x·Wᵀ + b, with W as stored by PyTorch: (out, in), row-major.
pub(crate) struct Linear {
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
    pub n_in: usize,
    pub n_out: usize,
}

pub(crate) struct LayerNorm {
    pub gamma: Vec<f32>,
    pub beta: Vec<f32>,
    pub eps: f32,
}

/// One encoder layer's weights as the checkpoints store them.
pub(crate) struct LayerWeights {
    pub query: Linear,
    pub key: Linear,
    pub value: Linear,
    pub attention_out: Linear,
    pub attention_norm: LayerNorm,
    pub intermediate: Linear,
    pub output: Linear,
    pub output_norm: LayerNorm,
}

/// The word embedding table: f32, or 4-bit rows dequantised at lookup (a
/// 250k-word table in f32 would be 380 MB in every backend).
pub(crate) enum WordEmbeddings {
    F32(Vec<f32>),
    Q4(Q4Matrix),
}

/// Everything a [`Bert`] is made of, already decoded to f32 (but the word
/// table), with shapes checked by whoever read the file.
pub(crate) struct BertParts {
    pub heads: usize,
    pub word_embeddings: WordEmbeddings,
    /// Row p is added to the token at position p of a sequence.
    pub position_embeddings: Vec<f32>,
    /// Token type 0: single-segment input, as sentence-transformers feeds it.
    pub token_type_embedding: Vec<f32>,
    pub embedding_norm: LayerNorm,
    pub layers: Vec<LayerWeights>,
}

struct Layer {
    /// Query, key and value projections stacked: output columns [q | k | v].
    qkv: Linear,
    attention_out: Linear,
    attention_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    output_norm: LayerNorm,
}

pub struct Bert {
    hidden: usize,
    heads: usize,
    max_positions: usize,
    vocab: usize,
    word_embeddings: WordEmbeddings,
    position_embeddings: Vec<f32>,
    token_type_embedding: Vec<f32>,
    embedding_norm: LayerNorm,
    layers: Vec<Layer>,
}

/// Rows at or above which row-wise steps are split across threads.
const PARALLEL_ROWS: usize = 64;

impl Bert {
    pub fn load(config: &BertConfig, weights_path: &Path) -> Result<Self, EmbedError> {
        let corrupt = |e: String| EmbedError::corrupt(weights_path, e);
        if config.hidden_act != "gelu" {
            return Err(corrupt(format!("unsupported activation {}", config.hidden_act)));
        }
        if config.num_attention_heads == 0 || config.hidden_size % config.num_attention_heads != 0 {
            return Err(corrupt("hidden size is not a multiple of the head count".into()));
        }
        let bytes = std::fs::read(weights_path).map_err(|e| corrupt(e.to_string()))?;
        let file = Weights {
            tensors: SafeTensors::deserialize(&bytes).map_err(|e| corrupt(e.to_string()))?,
            path: weights_path,
        };
        let h = config.hidden_size;
        let inter = config.intermediate_size;
        let eps = config.layer_norm_eps as f32;
        let layers = (0..config.num_hidden_layers)
            .map(|l| {
                let p = format!("encoder.layer.{l}");
                Ok(LayerWeights {
                    query: file.linear(&format!("{p}.attention.self.query"), h, h)?,
                    key: file.linear(&format!("{p}.attention.self.key"), h, h)?,
                    value: file.linear(&format!("{p}.attention.self.value"), h, h)?,
                    attention_out: file.linear(&format!("{p}.attention.output.dense"), h, h)?,
                    attention_norm: file.norm(&format!("{p}.attention.output.LayerNorm"), h, eps)?,
                    intermediate: file.linear(&format!("{p}.intermediate.dense"), inter, h)?,
                    output: file.linear(&format!("{p}.output.dense"), h, inter)?,
                    output_norm: file.norm(&format!("{p}.output.LayerNorm"), h, eps)?,
                })
            })
            .collect::<Result<Vec<_>, EmbedError>>()?;
        let token_types = file.get("embeddings.token_type_embeddings.weight", None)?;
        if token_types.len() < h {
            return Err(corrupt("no token type embedding".into()));
        }
        Ok(Bert::from_parts(BertParts {
            heads: config.num_attention_heads,
            word_embeddings: WordEmbeddings::F32(
                file.get("embeddings.word_embeddings.weight", Some(&[config.vocab_size, h]))?,
            ),
            position_embeddings: file.get(
                "embeddings.position_embeddings.weight",
                Some(&[config.max_position_embeddings, h]),
            )?,
            token_type_embedding: token_types[..h].to_vec(),
            embedding_norm: file.norm("embeddings.LayerNorm", h, eps)?,
            layers,
        }))
    }

    /// The encoder made of `parts`, whose shapes the caller has checked: the
    /// hidden width is the embedding norm's.
    pub(crate) fn from_parts(parts: BertParts) -> Self {
        let hidden = parts.embedding_norm.gamma.len();
        let vocab = match &parts.word_embeddings {
            WordEmbeddings::F32(table) => table.len() / hidden,
            WordEmbeddings::Q4(table) => table.rows(),
        };
        let layers = parts
            .layers
            .into_iter()
            .map(|w| Layer {
                qkv: Linear {
                    weight: [w.query.weight, w.key.weight, w.value.weight].concat(),
                    bias: [w.query.bias, w.key.bias, w.value.bias].concat(),
                    n_in: w.query.n_in,
                    n_out: 3 * w.query.n_out,
                },
                attention_out: w.attention_out,
                attention_norm: w.attention_norm,
                intermediate: w.intermediate,
                output: w.output,
                output_norm: w.output_norm,
            })
            .collect();
        Bert {
            hidden,
            heads: parts.heads,
            max_positions: parts.position_embeddings.len() / hidden,
            vocab,
            word_embeddings: parts.word_embeddings,
            position_embeddings: parts.position_embeddings,
            token_type_embedding: parts.token_type_embedding,
            embedding_norm: parts.embedding_norm,
            layers,
        }
    }

    pub fn max_positions(&self) -> usize {
        self.max_positions
    }

    pub fn hidden(&self) -> usize {
        self.hidden
    }

    pub fn vocab(&self) -> usize {
        self.vocab
    }

    /// Mean-pooled, L2-normalised last hidden states of each sequence of
    /// token ids (each non-empty, at most `max_positions` long, ids below the
    /// vocabulary size).
    pub fn embed_packed(&self, sequences: &[&[u32]]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let h = self.hidden;
        let mut offsets = Vec::with_capacity(sequences.len() + 1);
        offsets.push(0usize);
        for s in sequences {
            if s.is_empty() || s.len() > self.max_positions {
                return Err(EmbedError::internal(format!("sequence of {} tokens", s.len())));
            }
            if let Some(&bad) = s.iter().find(|&&id| id as usize >= self.vocab) {
                return Err(EmbedError::internal(format!("token id {bad} out of range")));
            }
            offsets.push(offsets.last().unwrap() + s.len());
        }
        let tokens = *offsets.last().unwrap();

        let mut x = vec![0f32; tokens * h];
        for (s, &start) in sequences.iter().zip(&offsets) {
            for (p, &id) in s.iter().enumerate() {
                let row = &mut x[(start + p) * h..(start + p + 1) * h];
                match &self.word_embeddings {
                    WordEmbeddings::F32(table) => {
                        row.copy_from_slice(&table[id as usize * h..(id as usize + 1) * h])
                    }
                    WordEmbeddings::Q4(table) => table.row_into(id as usize, row),
                }
                let position = &self.position_embeddings[p * h..(p + 1) * h];
                for j in 0..h {
                    row[j] = row[j] + position[j] + self.token_type_embedding[j];
                }
            }
        }
        layer_norm_rows(&mut x, None, &self.embedding_norm, h);

        let mut qkv = vec![0f32; tokens * 3 * h];
        let mut context = vec![0f32; tokens * h];
        let mut attended = vec![0f32; tokens * h];
        let mut inter = vec![0f32; tokens * self.layers.first().map_or(0, |l| l.intermediate.n_out)];
        let mut output = vec![0f32; tokens * h];
        for layer in &self.layers {
            layer.qkv.forward(&x, &mut qkv, tokens);
            self.attention(&qkv, &mut context, &offsets);
            layer.attention_out.forward(&context, &mut attended, tokens);
            layer_norm_rows(&mut attended, Some(&x), &layer.attention_norm, h);
            layer.intermediate.forward(&attended, &mut inter, tokens);
            gelu_rows(&mut inter, layer.intermediate.n_out);
            layer.output.forward(&inter, &mut output, tokens);
            layer_norm_rows(&mut output, Some(&attended), &layer.output_norm, h);
            std::mem::swap(&mut x, &mut output);
        }

        Ok(offsets
            .windows(2)
            .map(|w| {
                let mut mean = vec![0f32; h];
                for row in x[w[0] * h..w[1] * h].chunks_exact(h) {
                    mean.iter_mut().zip(row).for_each(|(m, v)| *m += v);
                }
                let n = (w[1] - w[0]) as f32;
                mean.iter_mut().for_each(|m| *m /= n);
                // torch.nn.functional.normalize: x / max(||x||, 1e-12)
                let norm = mean.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
                mean.iter_mut().for_each(|m| *m /= norm);
                mean
            })
            .collect())
    }

    /// [`Bert::embed_packed`] of every sequence, in input order, in packed
    /// batches of up to `batch_tokens` tokens (a longer sequence runs alone):
    /// the bound only limits working memory; the batch's size does not
    /// change the results. Tiny components are flushed to 0 (`flush_tiny`).
    pub fn embed_in_batches(
        &self,
        sequences: &[Vec<u32>],
        batch_tokens: usize,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut out = Vec::with_capacity(sequences.len());
        for range in token_batches(sequences, batch_tokens) {
            let batch: Vec<&[u32]> = sequences[range].iter().map(Vec::as_slice).collect();
            out.extend(self.embed_packed(&batch)?);
        }
        out.iter_mut().for_each(|row| crate::flush_tiny(row));
        Ok(out)
    }

    /// Scaled dot-product attention of each sequence with itself, per head;
    /// `qkv` rows are [q | k | v], `context` rows get the heads side by side.
    fn attention(&self, qkv: &[f32], context: &mut [f32], offsets: &[usize]) {
        let h = self.hidden;
        let d = h / self.heads;
        let stride = 3 * h;
        let scale = 1.0 / (d as f32).sqrt();
        let out = SharedMut(context.as_mut_ptr());
        let tasks: Vec<(usize, usize)> = (0..offsets.len() - 1)
            .flat_map(|s| (0..self.heads).map(move |head| (s, head)))
            .collect();
        tasks.par_iter().for_each_init(Vec::new, |scores: &mut Vec<f32>, &(s, head)| {
            let (start, len) = (offsets[s], offsets[s + 1] - offsets[s]);
            scores.resize(len * len, 0.0);
            let q = qkv[start * stride + head * d..].as_ptr();
            let k = qkv[start * stride + h + head * d..].as_ptr();
            let v = qkv[start * stride + 2 * h + head * d..].as_ptr();
            // SAFETY: every pointer addresses `len` rows of `d` values with
            // the given row strides inside its buffer; each task writes its
            // own rows x columns block of `context`, disjoint from the others.
            unsafe {
                // scores (len x len) = scale * q (len x d) . k^T (d x len)
                gemm::gemm(
                    len, len, d, scores.as_mut_ptr(), 1, len as isize, false,
                    q, 1, stride as isize, k, stride as isize, 1,
                    0.0, scale, false, false, false, Parallelism::None,
                );
            }
            for row in scores.chunks_exact_mut(len) {
                softmax(row);
            }
            unsafe {
                // context (len x d) = scores (len x len) . v (len x d)
                let dst = out.ptr().add(start * h + head * d);
                gemm::gemm(
                    len, d, len, dst, 1, h as isize, false,
                    scores.as_ptr(), 1, len as isize, v, 1, stride as isize,
                    0.0, 1.0, false, false, false, Parallelism::None,
                );
            }
        });
    }
}

/// A safetensors file being read into f32 vectors.
struct Weights<'a> {
    tensors: SafeTensors<'a>,
    path: &'a Path,
}

impl Weights<'_> {
    /// The f32 values of tensor `name`, checking its shape when given.
    fn get(&self, name: &str, shape: Option<&[usize]>) -> Result<Vec<f32>, EmbedError> {
        let corrupt = |e: String| EmbedError::corrupt(self.path, e);
        let view = self.tensors.tensor(name).map_err(|e| corrupt(format!("{name}: {e}")))?;
        if view.dtype() != safetensors::Dtype::F32 || shape.is_some_and(|s| view.shape() != s) {
            return Err(corrupt(format!(
                "{name}: expected F32 {shape:?}, found {:?} {:?}",
                view.dtype(),
                view.shape()
            )));
        }
        Ok(view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }

    fn linear(&self, name: &str, n_out: usize, n_in: usize) -> Result<Linear, EmbedError> {
        Ok(Linear {
            weight: self.get(&format!("{name}.weight"), Some(&[n_out, n_in]))?,
            bias: self.get(&format!("{name}.bias"), Some(&[n_out]))?,
            n_in,
            n_out,
        })
    }

    fn norm(&self, name: &str, width: usize, eps: f32) -> Result<LayerNorm, EmbedError> {
        Ok(LayerNorm {
            gamma: self.get(&format!("{name}.weight"), Some(&[width]))?,
            beta: self.get(&format!("{name}.bias"), Some(&[width]))?,
            eps,
        })
    }
}

/// A pointer that tasks writing disjoint parts of one buffer can share.
#[derive(Clone, Copy)]
struct SharedMut(*mut f32);
unsafe impl Send for SharedMut {}
unsafe impl Sync for SharedMut {}

impl SharedMut {
    // A method, so that closures capture the whole (Sync) wrapper rather
    // than its raw pointer field.
    fn ptr(self) -> *mut f32 {
        self.0
    }
}

impl Linear {
    /// y (rows x n_out) = x (rows x n_in) . Wᵀ + b
    fn forward(&self, x: &[f32], y: &mut [f32], rows: usize) {
        assert!(x.len() >= rows * self.n_in && y.len() >= rows * self.n_out);
        for row in y[..rows * self.n_out].chunks_exact_mut(self.n_out) {
            row.copy_from_slice(&self.bias);
        }
        let parallelism = if rows >= PARALLEL_ROWS {
            Parallelism::Rayon(0)
        } else {
            Parallelism::None
        };
        // SAFETY: the asserts above bound every access; Wᵀ is read from the
        // (out, in) layout through its strides.
        unsafe {
            gemm::gemm(
                rows, self.n_out, self.n_in,
                y.as_mut_ptr(), 1, self.n_out as isize, true,
                x.as_ptr(), 1, self.n_in as isize,
                self.weight.as_ptr(), self.n_in as isize, 1,
                1.0, 1.0, false, false, false, parallelism,
            );
        }
    }
}

/// Row-wise LayerNorm of `x + residual` (or of `x`), in place.
fn layer_norm_rows(x: &mut [f32], residual: Option<&[f32]>, norm: &LayerNorm, width: usize) {
    let apply = |(i, row): (usize, &mut [f32])| {
        if let Some(r) = residual {
            row.iter_mut().zip(&r[i * width..(i + 1) * width]).for_each(|(v, r)| *v += r);
        }
        let n = width as f32;
        let mean = row.iter().sum::<f32>() / n;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
        let inv = 1.0 / (var + norm.eps).sqrt();
        for ((v, g), b) in row.iter_mut().zip(&norm.gamma).zip(&norm.beta) {
            *v = (*v - mean) * inv * g + b;
        }
    };
    if x.len() / width >= PARALLEL_ROWS {
        x.par_chunks_mut(width).enumerate().for_each(apply);
    } else {
        x.chunks_mut(width).enumerate().for_each(apply);
    }
}

/// Exact (erf) GELU, in place.
fn gelu_rows(x: &mut [f32], width: usize) {
    if x.len() / width >= PARALLEL_ROWS {
        x.par_chunks_mut(width * 16).for_each(gelu);
    } else {
        gelu(x);
    }
}

/// Runs `$body` (a function of `$x`) compiled for AVX2 and FMA when the CPU
/// has them: the baseline x86-64 target only vectorises 4 lanes wide. Both
/// paths do the same IEEE operations in the same order, so they agree bit
/// for bit.
macro_rules! with_avx2 {
    ($name:ident, $x:ident, $body:block) => {
        fn $name($x: &mut [f32]) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                unsafe fn wide($x: &mut [f32]) $body
                if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                    // SAFETY: the CPU has the features `wide` is compiled for.
                    return unsafe { wide($x) };
                }
            }
            $body
        }
    };
}

with_avx2!(gelu, x, {
    for v in x.iter_mut() {
        *v = 0.5 * *v * (1.0 + erf(*v * std::f32::consts::FRAC_1_SQRT_2));
    }
});

with_avx2!(softmax, row, {
    let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    for v in row.iter_mut() {
        *v = exp(*v - max);
    }
    let inv = 1.0 / row.iter().sum::<f32>();
    row.iter_mut().for_each(|v| *v *= inv);
});

/// e^x to about 2 ulp for x in [-87, 88] (0 below), in straight-line
/// arithmetic that the compiler vectorises (libm's expf is a call per value).
#[inline(always)]
fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    // n = round(x / ln 2) by the 1.5·2^23 trick; r = x - n ln 2 in two parts
    const SHIFTER: f32 = 12_582_912.0;
    let n = (x * std::f32::consts::LOG2_E + SHIFTER) - SHIFTER;
    let r = x - n * 0.693_145_75 - n * 1.428_606_8e-6;
    // Taylor to r^7: |r| <= ln2/2 leaves a relative error below 1e-8
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    p * f32::from_bits(((n as i32 + 127) << 23) as u32)
}

/// erf to about 1.5e-7 absolute (Abramowitz and Stegun 7.1.26).
#[inline(always)]
fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152_1 + t * 1.061_405_4))));
    let y = 1.0 - poly * exp(-a * a);
    y.copysign(x)
}

/// Consecutive runs of `sequences` holding at most `batch_tokens` tokens
/// each (a longer sequence runs alone), in order.
pub fn token_batches(sequences: &[Vec<u32>], batch_tokens: usize) -> Vec<Range<usize>> {
    let mut batches = Vec::new();
    let mut start = 0;
    while start < sequences.len() {
        let mut end = start;
        let mut tokens = 0;
        while end < sequences.len() && (end == start || tokens + sequences[end].len() <= batch_tokens) {
            tokens += sequences[end].len();
            end += 1;
        }
        batches.push(start..end);
        start = end;
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::{erf, exp, token_batches};

    #[test]
    fn token_batches_respect_the_budget() {
        let seqs: Vec<Vec<u32>> = [3, 3, 5, 9, 1, 1].iter().map(|&n| vec![0; n]).collect();
        // 3+3 fits 8, 5 alone, 9 alone (over the budget), 1+1
        assert_eq!(token_batches(&seqs, 8), vec![0..2, 2..3, 3..4, 4..6]);
        assert!(token_batches(&[], 8).is_empty());
    }

    #[test]
    fn exp_is_accurate() {
        for i in -870..=880 {
            let x = i as f32 / 10.0;
            let (got, want) = (exp(x), x.exp());
            assert!(((got - want) / want).abs() < 1e-6, "exp({x}) = {got}, want {want}");
        }
        assert_eq!(exp(-1000.0), (-87.0f32).exp());
    }

    #[test]
    fn erf_is_accurate() {
        // erf(0.5) = 0.5204998778, erf(1) = 0.8427007929, erf(2) = 0.9953222650
        for (x, want) in [(0.0, 0.0), (0.5, 0.520_499_9), (1.0, 0.842_700_8), (2.0, 0.995_322_3)] {
            assert!((erf(x) - want).abs() < 3e-7, "erf({x}) = {}", erf(x));
            assert!((erf(-x) + want).abs() < 3e-7);
        }
        assert!((erf(10.0) - 1.0).abs() < 1e-7);
    }
}
