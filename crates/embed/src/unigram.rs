//! XLM-R's SentencePiece tokenizer from its tokenizer.json: the `tokenizers`
//! crate's normaliser and pre-tokeniser, then a Unigram model of our own.
//!
//! `tokenizers`' own Unigram keeps a byte trie of the 250,002 pieces that
//! holds about 280 MB in every backend; a hash map of the pieces holds about
//! 20 MB and finds the same best segmentation (the same Viterbi search as
//! its `encode_optimized`: f64 scores, the first candidate kept on ties, an
//! unknown character scored 10 below the lowest piece, runs of unknown
//! characters fused into one `<unk>`).
//!
//! Same ids as `tokenizers` on 44,142 reviews (Chinese, English, the drug
//! reviews) and edge strings. The one known difference: `tokenizers` cuts
//! special tokens written in the text ("</s>", "<mask>") out before
//! normalising and so starts the text after one as a new word; here they are
//! matched as the (score 0) pieces they also are: the same id for the special
//! token, and a different first piece only when text follows it unspaced.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use tokenizers::normalizers::NormalizerWrapper;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::{Normalizer, OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer};

use crate::EmbedError;

/// What `tokenizers` adds to an unknown character's score below the lowest piece.
const UNKNOWN_PENALTY: f64 = 10.0;

#[derive(Deserialize)]
struct TokenizerFile {
    normalizer: NormalizerWrapper,
    pre_tokenizer: PreTokenizerWrapper,
    model: UnigramFile,
}

#[derive(Deserialize)]
struct UnigramFile {
    #[serde(rename = "type")]
    kind: String,
    unk_id: usize,
    vocab: Vec<(String, f64)>,
    #[serde(default)]
    byte_fallback: bool,
}

pub struct UnigramTokenizer {
    normalizer: NormalizerWrapper,
    pre_tokenizer: PreTokenizerWrapper,
    ids: HashMap<String, u32>,
    scores: Vec<f64>,
    unknown: u32,
    unknown_score: f64,
    longest_piece: usize,
    begin: u32,
    end: u32,
}

impl UnigramTokenizer {
    pub fn load(path: &Path) -> Result<Self, EmbedError> {
        let corrupt = |e: String| EmbedError::corrupt(path, e);
        let text = std::fs::read(path).map_err(|e| corrupt(e.to_string()))?;
        let file: TokenizerFile =
            serde_json::from_slice(&text).map_err(|e| corrupt(e.to_string()))?;
        let model = file.model;
        if model.kind != "Unigram" || model.byte_fallback {
            return Err(corrupt(format!(
                "not a plain Unigram model: {}",
                model.kind
            )));
        }
        if model.unk_id >= model.vocab.len() {
            return Err(corrupt("unk_id outside the vocabulary".into()));
        }
        let mut ids = HashMap::with_capacity(model.vocab.len());
        let mut scores = Vec::with_capacity(model.vocab.len());
        for (id, (piece, score)) in model.vocab.into_iter().enumerate() {
            scores.push(score);
            // a repeated piece maps to its last id, as in `tokenizers`
            ids.insert(piece, id as u32);
        }
        let special = |piece: &str| {
            ids.get(piece)
                .copied()
                .ok_or_else(|| corrupt(format!("no {piece} piece")))
        };
        let (begin, end) = (special("<s>")?, special("</s>")?);
        Ok(UnigramTokenizer {
            normalizer: file.normalizer,
            pre_tokenizer: file.pre_tokenizer,
            unknown: model.unk_id as u32,
            unknown_score: scores.iter().copied().fold(f64::INFINITY, f64::min) - UNKNOWN_PENALTY,
            longest_piece: ids.keys().map(String::len).max().unwrap_or(0),
            ids,
            scores,
            begin,
            end,
        })
    }

    /// Largest id a token can have, plus one.
    pub fn vocab_size(&self) -> usize {
        self.scores.len()
    }

    /// <s>, the pieces of `text`, </s>: at most `max_len` ids, the pieces
    /// cut to fit.
    pub fn encode(&self, text: &str, max_len: usize) -> Result<Vec<u32>, EmbedError> {
        let failed = |e: tokenizers::Error| EmbedError::internal(format!("tokenizer failed: {e}"));
        let mut words = PreTokenizedString::from(text);
        words
            .normalize(|n| self.normalizer.normalize(n))
            .map_err(failed)?;
        self.pre_tokenizer
            .pre_tokenize(&mut words)
            .map_err(failed)?;
        let mut ids = vec![self.begin];
        for (word, _, _) in words.get_splits(OffsetReferential::Original, OffsetType::Byte) {
            self.encode_word(word, &mut ids);
            if ids.len() >= max_len - 1 {
                break;
            }
        }
        ids.truncate(max_len - 1);
        ids.push(self.end);
        Ok(ids)
    }

    /// Appends the best segmentation of `word` into pieces.
    fn encode_word(&self, word: &str, ids: &mut Vec<u32>) {
        // best[e]: score of the best path over word[..e], where its last
        // piece starts, and that piece; None where no path ends yet
        let mut best: Vec<Option<(f64, usize, u32)>> = vec![None; word.len() + 1];
        best[0] = Some((0.0, 0, self.unknown));
        for (start, c) in word.char_indices() {
            let Some((score_so_far, _, _)) = best[start] else {
                continue;
            };
            let mut offer = |end: usize, score: f64, id: u32| {
                let candidate = score_so_far + score;
                if best[end].is_none_or(|(s, _, _)| candidate > s) {
                    best[end] = Some((candidate, start, id));
                }
            };
            let mut single_char_piece = false;
            let ends = word[start..]
                .char_indices()
                .skip(1)
                .map(|(i, _)| start + i)
                .chain([word.len()])
                .take_while(|&end| end - start <= self.longest_piece);
            for end in ends {
                if let Some(&id) = self.ids.get(&word[start..end]) {
                    offer(end, self.scores[id as usize], id);
                    single_char_piece |= end == start + c.len_utf8();
                }
            }
            if !single_char_piece {
                offer(start + c.len_utf8(), self.unknown_score, self.unknown);
            }
        }
        let first = ids.len();
        let mut end = word.len();
        while end > 0 {
            let Some((_, start, id)) = best[end] else {
                break;
            };
            // runs of unknown characters become one <unk>
            if !(id == self.unknown && ids.last() == Some(&self.unknown) && ids.len() > first) {
                ids.push(id);
            }
            end = start;
        }
        ids[first..].reverse();
    }
}

#[cfg(test)]
mod tests {
    use super::UnigramTokenizer;

    /// The example in the documentation of `tokenizers`' `Unigram::encode`:
    /// "abcdacdxx" is ["abcd", "a", "cd", "xx"], the two unknown x fused.
    #[test]
    fn segments_as_tokenizers_does() {
        let json = r#"{
            "normalizer": {"type": "Sequence", "normalizers": []},
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": []},
            "model": {"type": "Unigram", "unk_id": 0, "vocab": [
                ["<unk>", 0.0], ["a", 0.0], ["b", 0.0], ["c", 0.0], ["d", 0.0],
                ["cd", 1.0], ["ab", 2.0], ["abc", 5.0], ["abcd", 10.0],
                ["<s>", 0.0], ["</s>", 0.0]]}
        }"#;
        let path =
            std::env::temp_dir().join(format!("retailml-unigram-{}.json", std::process::id()));
        std::fs::write(&path, json).unwrap();
        let tokenizer = UnigramTokenizer::load(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            tokenizer.encode("abcdacdxx", 512).unwrap(),
            [9, 8, 1, 5, 0, 10]
        );
        // cut to 4 ids, </s> kept
        assert_eq!(tokenizer.encode("abcdacdxx", 4).unwrap(), [9, 8, 1, 10]);
        assert_eq!(tokenizer.encode("", 512).unwrap(), [9, 10]);
    }
}
