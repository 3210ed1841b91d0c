//! Text and image embeddings for retailml, in pure Rust on the CPU: the text
//! model on its own packed BERT encoder (bert.rs, gemm kernels), the image
//! model on candle.
//!
//! - [`TextEncoder`]: sentence-transformers all-MiniLM-L6-v2 (384-d, mean
//!   pooling, L2 norm), tokenised exactly as sentence-transformers does.
//! - [`E5Encoder`]: multilingual-e5-small (384-d, about 100 languages, mean
//!   pooling, L2 norm) from a 4-bit container, on the same encoder; texts are
//!   embedded as passages.
//! - [`ImageEncoder`]: torchvision MobileNetV2 (1280-d pooled features and
//!   ImageNet-1k logits), fed by a port of torchvision's evaluation transform
//!   on Pillow (BILINEAR resize to 256, centre crop 224), in batches; and
//!   [`ImageLabels`], the ImageNet class names for its logits.
//! - Vector math on embeddings: cosine similarity and an element-wise mean
//!   that can run as a parallel aggregate.
//!
//! Models are read from a directory laid out by `models/fetch.sh`:
//! `MODEL_DIR/all-minilm-l6-v2/`, `MODEL_DIR/multilingual-e5-small/`,
//! `MODEL_DIR/mobilenet-v2/` and `MODEL_DIR/imagenet-classes/`. Nothing here
//! touches the network or Postgres; a model or input failure is an
//! [`EmbedError`], vector arguments without an answer (different lengths,
//! zero vectors) a [`VectorError`].

mod bert;
mod catalog;
mod e5;
mod error;
mod image_prep;
mod jpeg;
mod mobilenet;
mod q4;
mod resample;
mod sentiment;
mod sniff;
mod text;
mod unigram;
mod vector;

pub use bert::token_batches;
pub use catalog::{sha256_file, ModelInfo, MODELS};
pub use e5::{E5Encoder, E5_MAX_TOKENS, E5_MODEL_SUBDIR};
pub use error::EmbedError;
pub use image_prep::{preprocess_image, DEFAULT_MAX_IMAGE_PIXELS, INPUT_SIZE};
pub use mobilenet::{
    preprocess_images, ImageEmbedding, ImageEncoder, ImageLabels, IMAGE_FEATURES_DIM, IMAGE_LABELS_SUBDIR,
    IMAGE_MODEL_SUBDIR, NUM_CLASSES,
};
pub use sentiment::{
    char_ngram_features, mostly_non_latin, SentimentHead, NGRAM_MAX_CHARS, MULTILINGUAL_SENTIMENT_HEAD_SUBDIR, SENTIMENT_HEAD_SUBDIR,
};
pub use text::{TextEncoder, MAX_TOKENS, TEXT_MODEL_SUBDIR};
pub use vector::{cosine_similarity, mean_accumulate, mean_combine, mean_finish, VectorError};

/// A text model as the SQL layer uses it, so that a function can take the
/// model by name: [`TextEncoder`] and [`E5Encoder`].
pub trait TextEmbedder: Sync {
    /// Embedding width.
    fn dim(&self) -> usize;
    /// Unit-length embedding of one text.
    fn embed(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        self.embed_batch(&[text])?
            .pop()
            .ok_or_else(|| EmbedError::internal("empty forward output"))
    }
    /// Unit-length embeddings of many texts, in input order, packed into
    /// batches without padding.
    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let ids = texts.iter().map(|t| self.token_ids(t)).collect::<Result<Vec<_>, _>>()?;
        self.embed_token_ids(&ids)
    }
    /// The input ids the model reads for `text` (special tokens and prefix
    /// included, truncated to the model's length).
    fn token_ids(&self, text: &str) -> Result<Vec<u32>, EmbedError>;
    /// Unit-length embeddings of texts already turned into `token_ids`.
    fn embed_token_ids(&self, ids: &[Vec<u32>]) -> Result<Vec<Vec<f32>>, EmbedError>;
    /// Tokens a caller should hand `embed_token_ids` at once to hear back
    /// within about a second on one core, with near-full throughput on two
    /// (measured by examples/batch_sizes.rs).
    fn tokens_per_call(&self) -> usize;
}

/// Below this magnitude an embedding component is stored as 0: the product
/// of two such components underflows float4, and Postgres raises an error on
/// `a * b` for real values. MiniLM has a few dimensions that are ~1e-33 in
/// every text; zeroing them moves no cosine.
const TINY: f32 = 1e-19;

fn flush_tiny(values: &mut [f32]) {
    for v in values.iter_mut().filter(|v| v.abs() < TINY) {
        *v = 0.0;
    }
}
