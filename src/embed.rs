//! embed_review, embed_reviews and review_sentiment: thin wrappers over
//! `retailml_embed`'s text models.

use std::rc::Rc;
use std::thread::LocalKey;

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE;
use retailml_embed::{
    E5Encoder, SentimentHead, TextEmbedder, TextEncoder,
    E5_MODEL_SUBDIR, MULTILINGUAL_SENTIMENT_HEAD_SUBDIR, SENTIMENT_HEAD_SUBDIR, TEXT_MODEL_SUBDIR,
};

use crate::error::{raise, OrRaise};
use crate::model_cache::ModelCache;
use crate::threads;

thread_local! {
    static TEXT_ENCODER: ModelCache<TextEncoder> = const { ModelCache::new() };
    static E5_ENCODER: ModelCache<E5Encoder> = const { ModelCache::new() };
    static SENTIMENT_HEAD: ModelCache<SentimentHead> = const { ModelCache::new() };
    static MULTILINGUAL_SENTIMENT_HEAD: ModelCache<SentimentHead> = const { ModelCache::new() };
}

/// The names (model subdirectories) of the text models this backend has loaded.
pub(crate) fn loaded_models() -> Vec<&'static str> {
    let mut names = Vec::new();
    if TEXT_ENCODER.with(ModelCache::is_loaded) {
        names.push(TEXT_MODEL_SUBDIR);
    }
    if E5_ENCODER.with(ModelCache::is_loaded) {
        names.push(E5_MODEL_SUBDIR);
    }
    if SENTIMENT_HEAD.with(ModelCache::is_loaded) {
        names.push(SENTIMENT_HEAD_SUBDIR);
    }
    if MULTILINGUAL_SENTIMENT_HEAD.with(ModelCache::is_loaded) {
        names.push(MULTILINGUAL_SENTIMENT_HEAD_SUBDIR);
    }
    names
}

/// The text model SQL names: the English default or the multilingual one.
fn text_model(name: &str) -> Rc<dyn TextEmbedder> {
    match name {
        TEXT_MODEL_SUBDIR => TEXT_ENCODER.with(|cache| cache.get(TextEncoder::load)),
        E5_MODEL_SUBDIR => E5_ENCODER.with(|cache| cache.get(E5Encoder::load)),
        other => raise(
            ERRCODE_INVALID_PARAMETER_VALUE,
            format!("unknown text model \"{other}\""),
            Some("the text models are 'all-minilm-l6-v2' (English, the default) and 'multilingual-e5-small'"),
        ),
    }
}

/// The embedding of a review: 384 values of unit length, from
/// all-MiniLM-L6-v2 (English; at most 256 word pieces, as
/// sentence-transformers) or, when named, multilingual-e5-small (about 100
/// languages; embedded as an e5 "passage: ", at most 512 pieces).
#[pg_extern(immutable, strict, parallel_safe, cost = 5000)]
fn embed_review(review: &str, model: default!(&str, "'all-minilm-l6-v2'")) -> Vec<f32> {
    let model = text_model(model);
    let model: &dyn TextEmbedder = &*model;
    threads::run(|| model.embed(review)).or_raise()
}

/// The probability (0 to 1) that a review is positive: a logistic-regression
/// head trained by `make sentiment-head` on labelled public reviews, on the
/// embedding of the model named (the multilingual head also reads the
/// review's character n-grams). `auto` (the default) uses the multilingual
/// head for text that is mostly in a script other than Latin (Chinese,
/// Japanese, Cyrillic, Arabic, ...) and the English head otherwise.
#[pg_extern(immutable, strict, parallel_safe, cost = 5000)]
fn review_sentiment(review: &str, model: default!(&str, "'auto'")) -> f32 {
    let model = match model {
        "auto" if retailml_embed::mostly_non_latin(review) => E5_MODEL_SUBDIR,
        "auto" => TEXT_MODEL_SUBDIR,
        other => other,
    };
    let head_name = if model == E5_MODEL_SUBDIR { MULTILINGUAL_SENTIMENT_HEAD_SUBDIR } else { SENTIMENT_HEAD_SUBDIR };
    let encoder = text_model(model);
    let dim = encoder.dim();
    let cache: &'static LocalKey<ModelCache<SentimentHead>> =
        if model == E5_MODEL_SUBDIR { &MULTILINGUAL_SENTIMENT_HEAD } else { &SENTIMENT_HEAD };
    let head = cache.with(|c| c.get(|dir| SentimentHead::load(dir, head_name, model, dim)));
    let encoder: &dyn TextEmbedder = &*encoder;
    let embedding = threads::run(|| encoder.embed(review)).or_raise();
    head.probability(review, &embedding)
}

/// Texts tokenised per call in `embed_reviews`, between cancel checks;
/// embedding then goes `tokens_per_call` at a time, with a check between calls.
const TEXTS_PER_TOKENIZE: usize = 256;

/// `embed_review` of every element, one row per element in input order
/// (`WITH ORDINALITY` numbers them); a NULL element gives a NULL row. The
/// texts run through the model together, packed without padding, which is
/// faster than one call per row.
#[pg_extern(immutable, strict, parallel_safe, cost = 5000)]
fn embed_reviews(
    reviews: Vec<Option<String>>,
    model: default!(&str, "'all-minilm-l6-v2'"),
) -> SetOfIterator<'static, Option<Vec<f32>>> {
    let model = text_model(model);
    let encoder: &dyn TextEmbedder = &*model;
    let texts: Vec<&str> = reviews.iter().flatten().map(String::as_str).collect();
    let mut embeddings = Vec::with_capacity(texts.len());
    for group in texts.chunks(TEXTS_PER_TOKENIZE) {
        pgrx::check_for_interrupts!();
        let ids = threads::run(|| group.iter().map(|t| encoder.token_ids(t)).collect::<Result<Vec<_>, _>>()).or_raise();
        for batch in retailml_embed::token_batches(&ids, encoder.tokens_per_call()) {
            pgrx::check_for_interrupts!();
            embeddings.extend(threads::run(|| encoder.embed_token_ids(&ids[batch])).or_raise());
        }
    }
    let mut embeddings = embeddings.into_iter();
    let rows: Vec<Option<Vec<f32>>> = reviews.iter().map(|r| r.as_ref().and_then(|_| embeddings.next())).collect();
    SetOfIterator::new(rows)
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    #[pg_test]
    fn review_embedding_has_384_unit_values() {
        let embedding = crate::embed::embed_review("Arrived fast, tastes great", retailml_embed::TEXT_MODEL_SUBDIR);
        assert_eq!(embedding.len(), 384);
        let norm: f32 = embedding.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
    }

    #[pg_test]
    fn null_review_gives_null() {
        assert_eq!(Spi::get_one::<bool>("SELECT embed_review(NULL) IS NULL"), Ok(Some(true)));
    }

    #[pg_test]
    fn batch_keeps_order_and_null_positions() {
        let dims = Spi::get_one::<String>(
            "SELECT string_agg(coalesce(array_length(e, 1)::text, 'null'), ',' ORDER BY i)
               FROM embed_reviews(ARRAY['a', NULL, 'b']) WITH ORDINALITY AS t(e, i)",
        );
        assert_eq!(dims, Ok(Some("384,null,384".to_string())));
        let same = Spi::get_one::<bool>(
            "SELECT (SELECT sum(x * y) FROM unnest(e, embed_review('b')) u(x, y)) > 0.99999
               FROM embed_reviews(ARRAY['a', 'b']) WITH ORDINALITY t(e, i) WHERE i = 2",
        );
        assert_eq!(same, Ok(Some(true)));
    }

    #[pg_test]
    fn sentiment_is_a_probability() {
        let p = Spi::get_one::<f32>("SELECT review_sentiment('Lovely, will buy again')").unwrap().unwrap();
        assert!(p > 0.5 && p <= 1.0, "{p}");
    }

    #[pg_test(error = "model file \"/nonexistent/all-minilm-l6-v2/config.json\" is missing")]
    fn missing_model_is_an_error() {
        Spi::run("SET retailml.model_dir = '/nonexistent'").unwrap();
        Spi::run("SELECT embed_review('x')").unwrap();
    }
}
