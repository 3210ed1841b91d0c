//! JPEG through libjpeg-turbo's TurboJPEG API (Debian's libturbojpeg), the
//! library Pillow decodes with, with Pillow's defaults: the accurate integer
//! IDCT and fancy (triangle) chroma upsampling. On the 16 JPEGs of the test
//! data this gives exactly Pillow 13's pixels, where the `image` crate's
//! zune-jpeg differed by up to 4 on as many as 24% of values (and on 70% of
//! a corrupt file's), which cost 1.7e-4 of feature cosine.
//!
//! TurboJPEG keeps libjpeg's setjmp/longjmp error handling inside C: every
//! call returns a status, so no longjmp crosses a Rust frame, and it never
//! prints or exits.

use std::ffi::CStr;

use turbojpeg_sys as tj;

use crate::image_prep::{PixelLimit, Rgb8};
use crate::sniff::jpeg_is_complete;
use crate::EmbedError;

/// Progressive scans allowed (TJFLAG_LIMITSCANS, 500): a file of thousands
/// of tiny scans would otherwise take seconds to decode ("Two Issues with
/// the JPEG Standard").
const FLAGS: i32 = (tj::TJFLAG_ACCURATEDCT | tj::TJFLAG_LIMITSCANS) as i32;

/// libjpeg's JWRN_JPEG_EOF: the data ended before the image did. TurboJPEG
/// keeps the first warning's text, and Pillow calls this "truncated".
const PREMATURE_END: &str = "Premature end of JPEG file";

/// A TurboJPEG decompressor, destroyed on drop.
struct Decompressor(tj::tjhandle);

impl Drop for Decompressor {
    fn drop(&mut self) {
        // SAFETY: the handle came from tjInitDecompress and is destroyed once
        unsafe { tj::tjDestroy(self.0) };
    }
}

impl Decompressor {
    fn new() -> Result<Self, EmbedError> {
        // SAFETY: no arguments; null means out of memory
        let handle = unsafe { tj::tjInitDecompress() };
        if handle.is_null() {
            return Err(EmbedError::internal("cannot create a jpeg decompressor"));
        }
        Ok(Decompressor(handle))
    }

    /// The library's message for the last failed call, and whether it was
    /// only a warning (the image was still decoded).
    fn last_error(&self) -> (String, bool) {
        // SAFETY: a valid handle; the string lives in the handle
        let (msg, code) = unsafe {
            (
                CStr::from_ptr(tj::tjGetErrorStr2(self.0)),
                tj::tjGetErrorCode(self.0),
            )
        };
        (
            msg.to_string_lossy().into_owned(),
            code == tj::TJERR_TJERR_WARNING as i32,
        )
    }

    fn fatal(&self) -> EmbedError {
        EmbedError::UndecodableImage(format!("jpeg: {}", self.last_error().0))
    }
}

/// Decode a JPEG to RGB as Pillow's `convert("RGB")` would (EXIF
/// orientation is the caller's). `limit` is checked on the frame header's
/// size before any pixel buffer exists.
pub(crate) fn decode_jpeg(bytes: &[u8], limit: &PixelLimit) -> Result<Rgb8, EmbedError> {
    let d = Decompressor::new()?;
    let (mut width, mut height, mut subsamp, mut colorspace) = (0, 0, 0, 0);
    // SAFETY: the pointers are to live locals and to `bytes` with its length
    let status = unsafe {
        tj::tjDecompressHeader3(
            d.0,
            bytes.as_ptr(),
            bytes.len() as _,
            &mut width,
            &mut height,
            &mut subsamp,
            &mut colorspace,
        )
    };
    if status != 0 {
        return Err(d.fatal());
    }
    let (w, h) = (width.max(0) as u32, height.max(0) as u32);
    limit.check(w, h)?;
    if !jpeg_is_complete(bytes) {
        return Err(truncated());
    }

    let cmyk = matches!(colorspace as u32, tj::TJCS_TJCS_CMYK | tj::TJCS_TJCS_YCCK);
    let (format, channels) = if cmyk {
        (tj::TJPF_TJPF_CMYK, 4)
    } else {
        (tj::TJPF_TJPF_RGB, 3)
    };
    let mut pixels = vec![0u8; w as usize * h as usize * channels];
    // SAFETY: `pixels` holds exactly width x height pixels of `format` with
    // the default pitch (0 = width x pixel size)
    let status = unsafe {
        tj::tjDecompress2(
            d.0,
            bytes.as_ptr(),
            bytes.len() as _,
            pixels.as_mut_ptr(),
            width,
            0,
            height,
            format as i32,
            FLAGS,
        )
    };
    if status != 0 {
        let (msg, warning) = d.last_error();
        if !warning {
            return Err(EmbedError::UndecodableImage(format!("jpeg: {msg}")));
        }
        // Pillow ignores libjpeg's other warnings (corrupt data, extraneous
        // bytes): the image is kept, as decoded
        if msg.starts_with(PREMATURE_END) {
            return Err(truncated());
        }
    }
    let data = if cmyk { cmyk_to_rgb(&pixels) } else { pixels };
    Ok(Rgb8 {
        width: w as usize,
        height: h as usize,
        data,
    })
}

fn truncated() -> EmbedError {
    EmbedError::UndecodableImage("jpeg data is truncated".into())
}

/// Pillow: CMYK JPEGs are read as Adobe's inverted CMYK ("CMYK;I", which
/// every Adobe application writes), then `convert("RGB")` takes
/// `(255 - k) - c * (255 - k) / 255` per channel with its rounded division.
fn cmyk_to_rgb(cmyk: &[u8]) -> Vec<u8> {
    let muldiv255 = |a: u32, b: u32| {
        let t = a * b + 128;
        ((t >> 8) + t) >> 8
    };
    cmyk.chunks_exact(4)
        .flat_map(|p| {
            let nk = u32::from(p[3]); // 255 - (255 - stored k)
            let channel = |v: u8| (nk - muldiv255(255 - u32::from(v), nk)) as u8;
            [channel(p[0]), channel(p[1]), channel(p[2])]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmyk_conversion_matches_pillow() {
        // stored (inverted) values: all 255 is no ink, white; k stored 0 is black
        assert_eq!(cmyk_to_rgb(&[255, 255, 255, 255]), [255, 255, 255]);
        assert_eq!(cmyk_to_rgb(&[255, 255, 255, 0]), [0, 0, 0]);
        // full cyan, no black: red channel 0, the others full
        assert_eq!(cmyk_to_rgb(&[0, 255, 255, 255]), [0, 255, 255]);
        // Pillow 13, c = m = y = 100 and k = 50 before inversion: 205 - 80 = 125
        assert_eq!(cmyk_to_rgb(&[155, 155, 155, 205]), [125, 125, 125]);
    }
}
