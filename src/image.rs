//! embed_image: a thin wrapper over `retailml_embed`'s image model.

use pgrx::prelude::*;
use retailml_embed::{ImageEncoder, IMAGE_MODEL_SUBDIR};

use crate::error::OrRaise;
use crate::gucs;
use crate::model_cache::ModelCache;

thread_local! {
    static IMAGE_ENCODER: ModelCache<ImageEncoder> = const { ModelCache::new() };
}

/// The names (model subdirectories) of the image models this backend has loaded.
pub(crate) fn loaded_models() -> Vec<&'static str> {
    if IMAGE_ENCODER.with(ModelCache::is_loaded) {
        vec![IMAGE_MODEL_SUBDIR]
    } else {
        vec![]
    }
}

/// The MobileNetV2 (ImageNet) embedding of a product photo: 1280 values of
/// unit length. JPEG, PNG, GIF (first frame), WebP and BMP are decoded.
#[pg_extern(immutable, strict, parallel_safe, cost = 20000)]
fn embed_image(image: &[u8]) -> Vec<f32> {
    let encoder = IMAGE_ENCODER.with(|cache| cache.get(ImageEncoder::load));
    encoder.embed(image, gucs::max_image_pixels()).or_raise().features
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    #[pg_test]
    fn null_image_gives_null() {
        assert_eq!(Spi::get_one::<bool>("SELECT embed_image(NULL) IS NULL"), Ok(Some(true)));
    }

    #[pg_test(error = "cannot decode image: empty input")]
    fn empty_image_is_an_error() {
        Spi::run("SELECT embed_image(''::bytea)").unwrap();
    }

    #[pg_test(error = "image of 128x128 pixels exceeds the limit of 10000 pixels")]
    fn image_over_the_pixel_setting_is_refused() {
        Spi::run("SET retailml.max_image_pixels = 10000").unwrap();
        // a 128x128 PNG header: the limit is checked before any decoding
        Spi::run("SELECT embed_image('\\x89504e470d0a1a0a0000000d4948445200000080000000800802000000'::bytea)").unwrap();
    }
}
