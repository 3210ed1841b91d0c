//! embed_image, embed_images and classify_image: thin wrappers over
//! `retailml_embed`'s image model.
//!
//! The model runs inside `threads::run`, so `retailml.threads` sizes every
//! thread it uses: candle's matrix products and the model's own ops run on
//! the current rayon pool (see the epilogue in crates/embed/src/mobilenet.rs).

use std::rc::Rc;

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE;
use retailml_embed::{
    preprocess_images, ImageEncoder, ImageLabels, IMAGE_LABELS_SUBDIR, IMAGE_MODEL_SUBDIR,
    NUM_CLASSES,
};

use crate::error::{raise, OrRaise, SqlError};
use crate::gucs;
use crate::model_cache::ModelCache;
use crate::threads;

thread_local! {
    static IMAGE_ENCODER: ModelCache<ImageEncoder> = const { ModelCache::new() };
    static IMAGE_LABELS: ModelCache<ImageLabels> = const { ModelCache::new() };
}

/// The names (model subdirectories) of the image models this backend has loaded.
pub(crate) fn loaded_models() -> Vec<&'static str> {
    let mut names = Vec::new();
    if IMAGE_ENCODER.with(ModelCache::is_loaded) {
        names.push(IMAGE_MODEL_SUBDIR);
    }
    if IMAGE_LABELS.with(ModelCache::is_loaded) {
        names.push(IMAGE_LABELS_SUBDIR);
    }
    names
}

fn encoder() -> Rc<ImageEncoder> {
    IMAGE_ENCODER.with(|cache| cache.get(ImageEncoder::load))
}

/// The MobileNetV2 (ImageNet) embedding of a product photo: 1280 values of
/// unit length. JPEG, PNG, GIF, WebP (first frames), BMP and TIFF are
/// decoded, with the EXIF orientation applied; AVIF/HEIF are 0A000.
#[pg_extern(immutable, strict, parallel_safe, cost = 20000)]
fn embed_image(image: &[u8]) -> Vec<f32> {
    let encoder = encoder();
    let (encoder, max_pixels) = (&*encoder, gucs::max_image_pixels());
    threads::run(|| encoder.embed(image, max_pixels))
        .or_raise()
        .features
}

/// The `top_k` most probable ImageNet-1k classes of a photo (torchvision's
/// class names), most probable first; probabilities are the softmax of
/// MobileNetV2's 1000 logits.
#[pg_extern(immutable, strict, parallel_safe, cost = 20000)]
fn classify_image(
    image: &[u8],
    top_k: default!(i32, 5),
) -> TableIterator<'static, (name!(label, String), name!(probability, f32))> {
    if !(1..=NUM_CLASSES as i32).contains(&top_k) {
        raise(
            ERRCODE_INVALID_PARAMETER_VALUE,
            format!("top_k must be between 1 and {NUM_CLASSES}, not {top_k}"),
            None,
        );
    }
    // labels first: a missing file is reported before the model runs
    let labels = IMAGE_LABELS.with(|cache| cache.get(ImageLabels::load));
    let encoder = encoder();
    let (encoder, max_pixels) = (&*encoder, gucs::max_image_pixels());
    let logits = threads::run(|| encoder.embed(image, max_pixels))
        .or_raise()
        .logits;
    let rows: Vec<_> = labels
        .classify(&logits, top_k as usize)
        .into_iter()
        .map(|(label, p)| (label.to_string(), p))
        .collect();
    TableIterator::new(rows)
}

/// Images per network call in `embed_images`. Batches of 4 were fastest on
/// the 14 product photos (2 cores, `retailml-bench image-batch`, 112 photos,
/// quiet machine): 1: 38, 2: 55, 4: 59, 8: 48 images/s (one at a time, 38);
/// larger batches outgrow the cache (one expanded 112x112x96 map is 4.8 MB
/// per image). A batch takes about 0.1 s, so a cancel is answered promptly.
const IMAGES_PER_BATCH: usize = 4;

/// `embed_image` of every element, one row per element in input order; a
/// NULL element gives a NULL row. Photos are decoded on all the threads at
/// once and go through the network in batches.
#[pg_extern(immutable, strict, parallel_safe, cost = 20000)]
fn embed_images(images: Array<'_, &[u8]>) -> SetOfIterator<'static, Option<Vec<f32>>> {
    let encoder = encoder();
    let (encoder, max_pixels) = (&*encoder, gucs::max_image_pixels());
    // (position in the array, bytes) of the non-NULL elements, not copied
    let present: Vec<(usize, &[u8])> = images
        .iter()
        .enumerate()
        .filter_map(|(i, b)| Some((i, b?)))
        .collect();
    let mut rows: Vec<Option<Vec<f32>>> = vec![None; images.len()];
    for batch in present.chunks(IMAGES_PER_BATCH) {
        pgrx::check_for_interrupts!();
        let bytes: Vec<&[u8]> = batch.iter().map(|(_, b)| *b).collect();
        let inputs =
            threads::run(|| preprocess_images(&bytes, max_pixels)).unwrap_or_else(|(i, e)| {
                raise(
                    SqlError::sqlstate(&e),
                    format!("image {} of the array: {e}", batch[i].0 + 1),
                    SqlError::hint(&e),
                )
            });
        let embeddings = threads::run(|| encoder.embed_preprocessed(&inputs)).or_raise();
        for ((position, _), embedding) in batch.iter().zip(embeddings) {
            rows[*position] = Some(embedding.features);
        }
    }
    SetOfIterator::new(rows)
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    #[pg_test]
    fn null_image_gives_null() {
        assert_eq!(
            Spi::get_one::<bool>("SELECT embed_image(NULL) IS NULL"),
            Ok(Some(true))
        );
    }

    #[pg_test(error = "cannot decode image: empty input")]
    fn empty_image_is_an_error() {
        Spi::run("SELECT embed_image(''::bytea)").unwrap();
    }

    /// A 1x1 PNG: small enough to build in SQL, a real image for the model.
    const PIXEL_PNG: &str = concat!(
        "'\\x89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de",
        "0000000c49444154789c63f8dfc0000004010180c52a185d0000000049454e44ae426082'::bytea"
    );

    #[pg_test]
    fn image_batch_keeps_order_and_null_positions() {
        let dims = Spi::get_one::<String>(&format!(
            "SELECT string_agg(coalesce(array_length(e, 1)::text, 'null'), ',' ORDER BY i)
               FROM embed_images(ARRAY[{PIXEL_PNG}, NULL, {PIXEL_PNG}]) WITH ORDINALITY AS t(e, i)"
        ));
        assert_eq!(dims, Ok(Some("1280,null,1280".to_string())));
        let same = Spi::get_one::<bool>(&format!(
            "SELECT bool_and(cosine_similarity(e, embed_image({PIXEL_PNG})) > 0.99999) FROM embed_images(ARRAY[{PIXEL_PNG}]) e"
        ));
        assert_eq!(same, Ok(Some(true)));
    }

    #[pg_test(error = "image 3 of the array: cannot decode image: empty input")]
    fn bad_image_in_a_batch_names_its_position() {
        Spi::run(&format!(
            "SELECT count(*) FROM embed_images(ARRAY[{PIXEL_PNG}, NULL, ''::bytea])"
        ))
        .unwrap();
    }

    #[pg_test]
    fn classes_are_ranked_probabilities() {
        let (n, sorted, total) = Spi::get_three::<i64, bool, f64>(&format!(
            "SELECT count(*), bool_and(p <= prev), sum(p)
               FROM (SELECT probability::float8 AS p, lag(probability::float8, 1, 1.0) OVER (ORDER BY n) AS prev
                       FROM classify_image({PIXEL_PNG}, top_k => 1000) WITH ORDINALITY AS c(label, probability, n)) c"
        ))
        .unwrap();
        assert_eq!((n, sorted), (Some(1000), Some(true)));
        assert!((total.unwrap() - 1.0).abs() < 1e-4);
    }

    #[pg_test(error = "top_k must be between 1 and 1000, not 0")]
    fn top_k_out_of_range_is_an_error() {
        Spi::run(&format!(
            "SELECT * FROM classify_image({PIXEL_PNG}, top_k => 0)"
        ))
        .unwrap();
    }

    #[pg_test(error = "image of 128x128 pixels exceeds the limit of 10000 pixels")]
    fn image_over_the_pixel_setting_is_refused() {
        Spi::run("SET retailml.max_image_pixels = 10000").unwrap();
        // a 128x128 PNG header: the limit is checked before any decoding
        Spi::run("SELECT embed_image('\\x89504e470d0a1a0a0000000d4948445200000080000000800802000000'::bytea)").unwrap();
    }
}
