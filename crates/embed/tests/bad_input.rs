//! Hostile and broken images: the right error, never a panic.

mod common;

use common::{model_dir, noise, read_data};
use retailml_embed::{preprocess_image, EmbedError, ImageEncoder, DEFAULT_MAX_IMAGE_PIXELS};

const MAX: u64 = DEFAULT_MAX_IMAGE_PIXELS;

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// A well-formed PNG header (valid CRC) announcing width x height RGB, no pixel data.
fn png_header(width: u32, height: u32) -> Vec<u8> {
    let mut png = PNG_SIGNATURE.to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    png_chunk(&mut png, b"IHDR", &ihdr);
    png
}

/// An uncompressed 24-bit BMP; `pixels` is bottom-up BGR, rows padded to 4 bytes.
fn bmp(width: i32, height: i32, pixels: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(b"BM");
    b.extend_from_slice(&(54 + pixels.len() as u32).to_le_bytes());
    b.extend_from_slice(&[0; 4]);
    b.extend_from_slice(&54u32.to_le_bytes());
    b.extend_from_slice(&40u32.to_le_bytes());
    b.extend_from_slice(&width.to_le_bytes());
    b.extend_from_slice(&height.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&24u16.to_le_bytes());
    b.extend_from_slice(&[0; 24]);
    b.extend_from_slice(pixels);
    b
}

#[track_caller]
fn assert_undecodable(bytes: &[u8]) {
    match preprocess_image(bytes, MAX) {
        Err(EmbedError::UndecodableImage(msg)) => {
            // the catch_unwind fallback means a decoder panicked: worth knowing
            assert!(!msg.contains("decoder failed"), "decoder panicked");
        }
        other => panic!(
            "expected UndecodableImage, got {:?}",
            other.map(|x| x.len())
        ),
    }
}

#[track_caller]
fn assert_too_large(bytes: &[u8], width: u32, height: u32) {
    match preprocess_image(bytes, MAX) {
        Err(EmbedError::ImageTooLarge {
            width: w,
            height: h,
            max_pixels,
        }) => {
            assert_eq!((w, h, max_pixels), (width, height, MAX));
        }
        other => panic!("expected ImageTooLarge, got {:?}", other.map(|x| x.len())),
    }
}

#[test]
fn empty_garbage_and_headers_only() {
    assert_undecodable(b"");
    assert_undecodable(&noise(4096, 1));
    assert_undecodable(b"not an image at all");
    assert_undecodable(PNG_SIGNATURE);
    assert_undecodable(&png_header(64, 64)); // header, then nothing
    assert_undecodable(b"\xff\xd8\xff"); // JPEG start of image only
    assert_undecodable(b"GIF89a");
    assert_undecodable(b"RIFF\x00\x00\x00\x00WEBP");
    // a real image, unsupported format (0A000, not 22P03)
    assert!(matches!(
        preprocess_image(&read_data("edge/pillow_hopper.avif"), MAX),
        Err(EmbedError::UnsupportedFormat(_))
    ));
}

#[test]
fn truncated_files() {
    for file in [
        "images/opencv_apple.jpg",
        "images/sklearn_china.jpg",
        "images/skimage_coffee.png",
    ] {
        let bytes = read_data(file);
        for frac in [0.1, 0.5, 0.9] {
            let cut = (bytes.len() as f64 * frac) as usize;
            assert_undecodable(&bytes[..cut]);
        }
    }
    assert_undecodable(&read_data("edge/pillow_truncated_jpeg.jpg"));
    assert_undecodable(&read_data("edge/pillow_truncated_image.png"));
}

#[test]
fn huge_dimensions_are_refused_before_decoding() {
    assert_too_large(&png_header(100_000, 100_000), 100_000, 100_000);
    assert_too_large(&bmp(100_000, 100_000, &[]), 100_000, 100_000);
    // Pillow's decompression bomb: a 44-byte GIF announcing 4.4 gigapixels
    let bomb = read_data("edge/pillow_decompression_bomb.gif");
    match preprocess_image(&bomb, MAX) {
        Err(EmbedError::ImageTooLarge { width, height, .. }) => {
            assert!(u64::from(width) * u64::from(height) > MAX)
        }
        other => panic!("expected ImageTooLarge, got {:?}", other.map(|x| x.len())),
    }
    // the limit is the caller's: a real 512x512 image over a 1000-pixel cap
    let apple = read_data("images/opencv_apple.jpg");
    assert_eq!(
        preprocess_image(&apple, 1000).err(),
        Some(EmbedError::ImageTooLarge {
            width: 512,
            height: 512,
            max_pixels: 1000
        })
    );
}

#[test]
fn large_image_within_the_limit_decodes() {
    // 75 MB of RGB: more than the decoders' header-stage memory budget,
    // which must not cap the pixel buffer of an image under max_pixels
    let (w, h) = (5000, 5000);
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let x = preprocess_image(&png, MAX).expect("large png");
    assert_eq!(x.len(), 3 * 224 * 224);
}

#[test]
fn small_bmp_decodes() {
    // 2x2: bottom row red, green; top row blue, white (rows padded to 8 bytes)
    let pixels = [0, 0, 255, 0, 255, 0, 0, 0, 255, 0, 0, 255, 255, 255, 0, 0];
    let x = preprocess_image(&bmp(2, 2, &pixels), MAX).expect("bmp");
    assert_eq!(x.len(), 3 * 224 * 224);
}

/// Every edge file decodes or fails cleanly, as Pillow 13 does (manifest
/// column `pillow13_result`), except AVIF, which we do not decode.
#[test]
fn pillow_edge_files_behave_like_pillow() {
    let manifest = String::from_utf8(read_data("edge/MANIFEST.csv")).unwrap();
    let mut checked = 0;
    for line in manifest.lines().skip(1) {
        let file = line.split(',').next().unwrap();
        let pillow_ok = line.contains(",ok,");
        let result = preprocess_image(&read_data(file), MAX);
        println!(
            "{file}: pillow {} -> {:?}",
            if pillow_ok { "ok" } else { "error" },
            result.as_ref().err()
        );
        match (pillow_ok, file.ends_with(".avif"), &result) {
            (_, true, Err(EmbedError::UnsupportedFormat(_))) => {}
            (true, false, Ok(x)) => assert!(x.iter().all(|v| v.is_finite())),
            (
                false,
                false,
                Err(EmbedError::UndecodableImage(_) | EmbedError::ImageTooLarge { .. }),
            ) => {}
            _ => panic!("{file}: unexpected {:?}", result.err()),
        }
        checked += 1;
    }
    assert!(checked >= 10);
}

/// Corrupt bytes inside real files: any outcome but a panic or a NaN.
#[test]
fn corrupted_real_images_never_panic() {
    for file in [
        "images/opencv_apple.jpg",
        "images/opencv_box.png",
        "edge/pillow_hopper.gif",
        "edge/pillow_hopper.webp",
    ] {
        let original = read_data(file);
        for seed in 0..40u64 {
            let mut bytes = original.clone();
            let r = noise(16, seed);
            for k in 0..8 {
                let pos = (usize::from(r[2 * k]) << 8 | usize::from(r[2 * k + 1])) % bytes.len();
                bytes[pos] ^= r[k] | 1;
            }
            match preprocess_image(&bytes, MAX) {
                Ok(x) => assert!(x.iter().all(|v| v.is_finite())),
                Err(EmbedError::UndecodableImage(_) | EmbedError::ImageTooLarge { .. }) => {}
                Err(e) => panic!("{file} seed {seed}: {e:?}"),
            }
        }
    }
}

#[test]
fn encoder_reports_bad_input_too() {
    let enc = ImageEncoder::load(&model_dir()).expect("load");
    assert!(matches!(
        enc.embed(b"", MAX),
        Err(EmbedError::UndecodableImage(_))
    ));
    assert!(matches!(
        enc.embed(&png_header(100_000, 100_000), MAX),
        Err(EmbedError::ImageTooLarge { .. })
    ));
}
