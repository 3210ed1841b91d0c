//! Image bytes -> the 3x224x224 tensor torchvision's ImageNet evaluation
//! transform produces from a Pillow image: Resize(256) with BILINEAR,
//! CenterCrop(224), ToTensor, Normalize.

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits, RgbImage};

use crate::jpeg::decode_jpeg;
use crate::resample::resize_crop;
use crate::sniff::{announced_dimensions, jpeg_exif, unsupported_format};
use crate::EmbedError;

/// Side of the square network input.
pub const INPUT_SIZE: usize = 224;

/// Shorter side after the resize, before the centre crop.
const RESIZE_SHORT: u64 = 256;

/// Default cap on width x height of an accepted image: 64 megapixels.
///
/// Above every common camera sensor (61 MP full frame), below Pillow's own
/// decompression-bomb warning (~89 MP). Such an image decodes to 256 MiB of
/// RGBA, and a progressive 4:4:4 JPEG of that size peaks at about 12 bytes
/// per pixel (coefficients, RGB, the rotation copy): about 800 MiB, the most
/// one backend should hold.
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

/// The formats decoded, for messages.
pub(crate) const SUPPORTED: &str = "jpeg, png, gif, webp, bmp and tiff";

/// Decode `image` (JPEG, PNG, GIF, WebP, BMP, TIFF; the first frame of an
/// animation) and return the normalised network input, CHW, R G B planes of
/// 224x224.
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

/// Decode to 8-bit RGB, upright: grey is copied to three channels, alpha is
/// composited over white in every format (for opaque images this is
/// Pillow's convert("RGB")), and an EXIF orientation is applied.
///
/// Orientation is a deliberate difference from the reference: Pillow and
/// torchvision ignore it, so a phone photo tagged "rotate 90" would be
/// embedded lying on its side. No reference image carries one.
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

/// The caller's cap on width x height, checked on every size a header
/// announces before anything is allocated for it.
pub(crate) struct PixelLimit(u64);

impl PixelLimit {
    pub(crate) fn check(&self, width: u32, height: u32) -> Result<(), EmbedError> {
        if u64::from(width) * u64::from(height) > self.0 {
            return Err(EmbedError::ImageTooLarge {
                width,
                height,
                max_pixels: self.0,
            });
        }
        if width == 0 || height == 0 {
            return Err(EmbedError::UndecodableImage(format!(
                "image has no pixels ({width}x{height})"
            )));
        }
        Ok(())
    }
}

fn decode_inner(bytes: &[u8], max_pixels: u64) -> Result<Rgb8, EmbedError> {
    if bytes.is_empty() {
        return Err(EmbedError::UndecodableImage("empty input".into()));
    }
    if let Some(name) = unsupported_format(bytes) {
        return Err(EmbedError::UnsupportedFormat(name.into()));
    }
    let limit = PixelLimit(max_pixels);
    if let Some((width, height)) = announced_dimensions(bytes) {
        limit.check(width, height)?;
    }
    let format = image::guess_format(bytes).map_err(|_| {
        EmbedError::UndecodableImage(format!("unrecognised format (expected one of {SUPPORTED})"))
    })?;
    let (rgb, orientation) = match format {
        ImageFormat::Jpeg => (
            decode_jpeg(bytes, &limit)?,
            jpeg_exif(bytes).and_then(Orientation::from_exif_chunk),
        ),
        ImageFormat::Png
        | ImageFormat::Gif
        | ImageFormat::WebP
        | ImageFormat::Bmp
        | ImageFormat::Tiff => decode_with_image_crate(bytes, format, &limit)?,
        other => {
            let name = other.extensions_str().first().copied().unwrap_or("this");
            return Err(EmbedError::UnsupportedFormat(name.to_uppercase()));
        }
    };
    orient(rgb, orientation)
}

/// PNG (the first frame of an APNG is its default image), GIF and WebP
/// (first frame only: later frames are never parsed), BMP and TIFF (first
/// page).
fn decode_with_image_crate(
    bytes: &[u8],
    format: ImageFormat,
    limit: &PixelLimit,
) -> Result<(Rgb8, Option<Orientation>), EmbedError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    // while only headers are parsed, decoders get the working-memory budget alone
    let mut limits = Limits::default();
    limits.max_alloc = Some(DECODER_WORK_BYTES);
    reader.limits(limits);

    let mut decoder = reader.into_decoder().map_err(decode_error)?;
    let (width, height) = decoder.dimensions();
    limit.check(width, height)?;
    // a malformed EXIF block is ignored, as Pillow's exif_transpose does
    let orientation = decoder.orientation().ok();
    // now the pixel buffer (at most 16 bytes a pixel, for float RGBA TIFF),
    // plus the same working memory (e.g. a GIF frame buffer larger than the
    // screen must fit in it)
    let mut limits = Limits::default();
    limits.max_alloc = Some(decoder.total_bytes().saturating_add(DECODER_WORK_BYTES));
    limits
        .reserve(decoder.total_bytes())
        .map_err(decode_error)?;
    decoder.set_limits(limits).map_err(decode_error)?;
    let image = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    Ok((to_rgb(image), orientation))
}

fn decode_error(e: ImageError) -> EmbedError {
    match e {
        ImageError::Limits(e) => {
            EmbedError::UndecodableImage(format!("decoding needs more memory than allowed: {e}"))
        }
        // a decoder's message can quote a garbage chunk name byte for byte
        e => EmbedError::UndecodableImage(
            e.to_string()
                .chars()
                .map(|c| {
                    if c.is_ascii_graphic() || c == ' ' {
                        c
                    } else {
                        '?'
                    }
                })
                .collect(),
        ),
    }
}

/// Rotate and flip as the EXIF orientation says, before the resize.
fn orient(rgb: Rgb8, orientation: Option<Orientation>) -> Result<Rgb8, EmbedError> {
    let Some(orientation) = orientation.filter(|&o| o != Orientation::NoTransforms) else {
        return Ok(rgb);
    };
    let buf = RgbImage::from_raw(rgb.width as u32, rgb.height as u32, rgb.data)
        .ok_or_else(|| EmbedError::internal("decoded buffer does not match its size"))?;
    let mut image = DynamicImage::ImageRgb8(buf);
    image.apply_orientation(orientation);
    let buf = image.into_rgb8();
    Ok(Rgb8 {
        width: buf.width() as usize,
        height: buf.height() as usize,
        data: buf.into_raw(),
    })
}

fn to_rgb(image: DynamicImage) -> Rgb8 {
    let (width, height) = (image.width() as usize, image.height() as usize);
    // 16 bits: the high byte, as Pillow's "RGB;16B" unpacking does
    let high = |v: u16| (v >> 8) as u8;
    let unit = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    let data = match image {
        DynamicImage::ImageRgb8(buf) => buf.into_raw(),
        DynamicImage::ImageLuma8(buf) => rgb_over_white(buf.as_raw(), 1, |v| v),
        DynamicImage::ImageLumaA8(buf) => rgb_over_white(buf.as_raw(), 2, |v| v),
        DynamicImage::ImageRgba8(buf) => rgb_over_white(buf.as_raw(), 4, |v| v),
        DynamicImage::ImageLuma16(buf) => rgb_over_white(buf.as_raw(), 1, high),
        DynamicImage::ImageLumaA16(buf) => rgb_over_white(buf.as_raw(), 2, high),
        DynamicImage::ImageRgb16(buf) => rgb_over_white(buf.as_raw(), 3, high),
        DynamicImage::ImageRgba16(buf) => rgb_over_white(buf.as_raw(), 4, high),
        DynamicImage::ImageRgb32F(buf) => rgb_over_white(buf.as_raw(), 3, unit),
        DynamicImage::ImageRgba32F(buf) => rgb_over_white(buf.as_raw(), 4, unit),
        // the enum is non-exhaustive: a future layout goes through RGBA8
        other => rgb_over_white(other.to_rgba8().as_raw(), 4, |v| v),
    };
    Rgb8 {
        width,
        height,
        data,
    }
}

/// Interleaved grey, grey+alpha, RGB or RGBA samples to 8-bit RGB, each
/// sample reduced by `to8`, alpha composited over white.
fn rgb_over_white<T: Copy>(samples: &[T], channels: usize, to8: impl Fn(T) -> u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(samples.len() / channels * 3);
    for p in samples.chunks_exact(channels) {
        let px: [u8; 3] = match channels {
            1 | 2 => [to8(p[0]); 3],
            _ => [to8(p[0]), to8(p[1]), to8(p[2])],
        };
        match channels {
            2 | 4 => {
                let a = to8(p[channels - 1]);
                out.extend(px.map(|c| over_white(c, a)));
            }
            _ => out.extend(px),
        }
    }
    out
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
