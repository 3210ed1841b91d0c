//! Image bytes -> the 3x224x224 tensor torchvision's ImageNet evaluation
//! transform produces from a Pillow image: Resize(256) with BILINEAR,
//! CenterCrop(224), ToTensor, Normalize.

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};

use crate::resample::resize_crop;
use crate::sniff::{announced_dimensions, jpeg_is_complete};
use crate::EmbedError;

/// Side of the square network input.
pub const INPUT_SIZE: usize = 224;

/// Shorter side after the resize, before the centre crop.
const RESIZE_SHORT: u64 = 256;

/// Default cap on width x height of an accepted image: 64 megapixels.
///
/// Above every common camera sensor (61 MP full frame), below Pillow's own
/// decompression-bomb warning (~89 MP). Such an image decodes to 256 MiB of
/// RGBA (about 450 MiB at peak with the RGB copy), about the most one
/// backend should hold.
pub const DEFAULT_MAX_IMAGE_PIXELS: u64 = 64 * 1024 * 1024;

/// Decoder working memory allowed beyond the pixel buffer itself (metadata
/// chunks, palettes, line buffers, GIF frame buffers).
const DECODER_WORK_BYTES: u64 = 64 * 1024 * 1024;

const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
const STD: [f32; 3] = [0.229, 0.224, 0.225];

/// An 8-bit RGB image, rows top to bottom, pixels interleaved.
pub(crate) struct Rgb8 {
    pub width: usize,
    pub height: usize,
    pub data: Vec<u8>,
}

/// Decode `image` (JPEG, PNG, GIF first frame, WebP, BMP) and return the
/// normalised network input, CHW, R G B planes of 224x224.
pub fn preprocess_image(image: &[u8], max_pixels: u64) -> Result<Vec<f32>, EmbedError> {
    let rgb = decode_rgb(image, max_pixels)?;
    let (w, h) = (rgb.width as u64, rgb.height as u64);
    // torchvision: the shorter side becomes 256, the longer int(256 * long / short)
    let (short, long) = (w.min(h), w.max(h));
    let scaled_long = ((RESIZE_SHORT * long) as f64 / short as f64) as u64;
    let (out_w, out_h) = if w <= h {
        (RESIZE_SHORT, scaled_long)
    } else {
        (scaled_long, RESIZE_SHORT)
    };

    // both resized sides are >= 256, so CenterCrop(224) never needs padding
    let left = crop_offset(out_w);
    let top = crop_offset(out_h);
    let pixels = resize_crop(&rgb, out_w as usize, out_h as usize, left, top, INPUT_SIZE);

    let plane = INPUT_SIZE * INPUT_SIZE;
    let mut out = vec![0f32; 3 * plane];
    for (i, px) in pixels.chunks_exact(3).enumerate() {
        for c in 0..3 {
            // same f32 operations as ToTensor (x / 255) then Normalize
            out[c * plane + i] = (f32::from(px[c]) / 255.0 - MEAN[c]) / STD[c];
        }
    }
    Ok(out)
}

/// torchvision CenterCrop: round((size - 224) / 2) with Python's
/// round-half-to-even, so 341 gives 58, not 59.
fn crop_offset(size: u64) -> usize {
    let d = (size as usize).saturating_sub(INPUT_SIZE);
    let half = d / 2;
    if d % 2 == 1 && half % 2 == 1 {
        half + 1
    } else {
        half
    }
}

/// Decode to 8-bit RGB: grey is copied to three channels, alpha is
/// composited over white (for opaque images this is Pillow's convert("RGB")).
fn decode_rgb(bytes: &[u8], max_pixels: u64) -> Result<Rgb8, EmbedError> {
    // the decoders are meant to return errors, but they parse hostile bytes:
    // a panic in one must become an error, not take the backend down
    match catch_unwind(AssertUnwindSafe(|| decode_inner(bytes, max_pixels))) {
        Ok(result) => result,
        Err(_) => Err(EmbedError::UndecodableImage(
            "the decoder failed on malformed data".into(),
        )),
    }
}

fn decode_inner(bytes: &[u8], max_pixels: u64) -> Result<Rgb8, EmbedError> {
    if bytes.is_empty() {
        return Err(EmbedError::UndecodableImage("empty input".into()));
    }
    let too_large = |width: u32, height: u32| {
        (u64::from(width) * u64::from(height) > max_pixels).then_some(EmbedError::ImageTooLarge {
            width,
            height,
            max_pixels,
        })
    };
    if let Some(e) = announced_dimensions(bytes).and_then(|(w, h)| too_large(w, h)) {
        return Err(e);
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| EmbedError::UndecodableImage(e.to_string()))?;
    let Some(format) = reader.format() else {
        return Err(EmbedError::UndecodableImage(
            "unrecognised format (expected jpeg, png, gif, webp or bmp)".into(),
        ));
    };
    // while only headers are parsed, decoders get the working-memory budget alone
    let mut limits = Limits::default();
    limits.max_alloc = Some(DECODER_WORK_BYTES);
    reader.limits(limits);

    let mut decoder = reader.into_decoder().map_err(decode_error)?;
    let (width, height) = decoder.dimensions();
    if let Some(e) = too_large(width, height) {
        return Err(e);
    }
    if width == 0 || height == 0 {
        return Err(EmbedError::UndecodableImage(format!(
            "image has no pixels ({width}x{height})"
        )));
    }
    if format == ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
        return Err(EmbedError::UndecodableImage(
            "jpeg data is truncated (no end-of-image marker)".into(),
        ));
    }
    // now the pixel buffer, plus the same working memory (e.g. a GIF frame
    // buffer larger than the screen must fit in it)
    let mut limits = Limits::default();
    limits.max_alloc = Some(decoder.total_bytes().saturating_add(DECODER_WORK_BYTES));
    limits
        .reserve(decoder.total_bytes())
        .map_err(decode_error)?;
    decoder.set_limits(limits).map_err(decode_error)?;
    let image = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    Ok(to_rgb(image))
}

fn decode_error(e: ImageError) -> EmbedError {
    match e {
        ImageError::Limits(e) => {
            EmbedError::UndecodableImage(format!("decoding needs more memory than allowed: {e}"))
        }
        e => EmbedError::UndecodableImage(e.to_string()),
    }
}

fn to_rgb(image: DynamicImage) -> Rgb8 {
    let (width, height) = (image.width() as usize, image.height() as usize);
    let data = match image {
        DynamicImage::ImageRgb8(buf) => buf.into_raw(),
        DynamicImage::ImageLuma8(buf) => buf.into_raw().iter().flat_map(|&g| [g, g, g]).collect(),
        DynamicImage::ImageLumaA8(buf) => buf
            .into_raw()
            .chunks_exact(2)
            .flat_map(|p| {
                let g = over_white(p[0], p[1]);
                [g, g, g]
            })
            .collect(),
        DynamicImage::ImageRgba8(buf) => rgba_over_white(&buf.into_raw()),
        // 16-bit and float images: reduce to 8 bits, then the same rules
        other => rgba_over_white(&other.into_rgba8().into_raw()),
    };
    Rgb8 {
        width,
        height,
        data,
    }
}

fn rgba_over_white(rgba: &[u8]) -> Vec<u8> {
    rgba.chunks_exact(4)
        .flat_map(|p| {
            [
                over_white(p[0], p[3]),
                over_white(p[1], p[3]),
                over_white(p[2], p[3]),
            ]
        })
        .collect()
}

/// `c * a + 255 * (1 - a)` in 8-bit, rounded; exact `c` when opaque.
fn over_white(c: u8, a: u8) -> u8 {
    let (c, a) = (u32::from(c), u32::from(a));
    ((c * a + 255 * (255 - a) + 127) / 255) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_offset_rounds_half_to_even() {
        assert_eq!(crop_offset(256), 16);
        assert_eq!(crop_offset(341), 58); // 58.5 -> 58
        assert_eq!(crop_offset(383), 80); // 79.5 -> 80
        assert_eq!(crop_offset(371), 74); // 73.5 -> 74
        assert_eq!(crop_offset(224), 0);
    }

    #[test]
    fn compositing_over_white() {
        assert_eq!(over_white(10, 255), 10);
        assert_eq!(over_white(10, 0), 255);
        assert_eq!(over_white(0, 128), 127);
    }
}
