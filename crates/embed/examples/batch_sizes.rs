//! Measures how many tokens one inference call of `embed_reviews` should
//! take (TOKENS_PER_CALL in src/embed.rs): the glue answers a cancel only
//! between calls, and packed batches have no padding, so the budget trades
//! the size of the matrix products against the time to answer a cancel.
//! Prints texts/s and the longest call per budget, on `THREADS` threads.
//!
//!     cargo run --release -p retailml-embed --example batch_sizes MODEL MODEL_DIR REVIEWS.jsonl [N] [THREADS]
//!
//! MODEL: all-minilm-l6-v2 or multilingual-e5-small. REVIEWS.jsonl: one
//! {"text": ...} object per line (e.g. the sentiment data that
//! `make sentiment-head` writes under models/cache/sentiment).

use std::path::Path;
use std::time::Instant;

use retailml_embed::{token_batches, E5Encoder, TextEmbedder, TextEncoder, E5_MODEL_SUBDIR, TEXT_MODEL_SUBDIR};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (name, dir, file) = (args[0].as_str(), Path::new(&args[1]), &args[2]);
    let n: usize = args.get(3).map_or(1024, |s| s.parse().expect("N"));
    let threads: usize = args.get(4).map_or(2, |s| s.parse().expect("THREADS"));
    let texts: Vec<String> = std::fs::read_to_string(file)
        .expect("REVIEWS.jsonl")
        .lines()
        .take(n)
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json")["text"].as_str().expect("text").to_string())
        .collect();
    let model: Box<dyn TextEmbedder> = match name {
        TEXT_MODEL_SUBDIR => Box::new(TextEncoder::load(dir).expect("load")),
        E5_MODEL_SUBDIR => Box::new(E5Encoder::load(dir).expect("load")),
        other => panic!("unknown model {other}"),
    };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
    let ids: Vec<Vec<u32>> = texts.iter().map(|t| model.token_ids(t).expect("tokenize")).collect();
    let tokens: usize = ids.iter().map(Vec::len).sum();
    println!("{name}: {} texts, {:.0} tokens on average, {threads} threads", ids.len(), tokens as f64 / ids.len() as f64);
    pool.install(|| model.embed_token_ids(&ids[..8]).expect("warm up"));
    for budget in [256, 512, 1024, 2048, 4096] {
        let (mut seconds, mut longest) = (0f64, 0f64);
        for batch in token_batches(&ids, budget) {
            let start = Instant::now();
            pool.install(|| model.embed_token_ids(&ids[batch]).expect("embed"));
            let call = start.elapsed().as_secs_f64();
            seconds += call;
            longest = longest.max(call);
        }
        println!(
            "  {budget:>5} tokens per call: {:6.1} texts/s, longest call {:4.0} ms",
            ids.len() as f64 / seconds,
            1e3 * longest
        );
    }
}
