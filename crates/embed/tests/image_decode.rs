//! Decoding every format and quirk: each of Pillow's edge files as Pillow
//! treats it, EXIF orientation, transparency over white in every format,
//! first frames of animations, 16-bit samples, TIFF, truncations and noise.

mod common;

use std::io::Cursor;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{noise, png_chunk};
use image::codecs::gif::GifEncoder;
use image::{DynamicImage, Frame, ImageBuffer, ImageFormat, Luma, Rgb, RgbImage, Rgba, RgbaImage};
use retailml_embed::{preprocess_image, EmbedError, DEFAULT_MAX_IMAGE_PIXELS as MAX, INPUT_SIZE};

/// The edge images the pg_regress suite embeds too.
fn edge(file: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../pg_test/data/images")
        .join(file);
    std::fs::read(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

/// (file, what Pillow 13 did with it) for every image of the edge manifest.
fn manifest() -> Vec<(String, String)> {
    String::from_utf8(edge("MANIFEST.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| {
            let file = line.split(',').next().unwrap().to_string();
            // the result column follows the 7 plain columns; an error may hold commas
            let result = line.splitn(8, ',').nth(7).unwrap().to_string();
            (file, result)
        })
        .collect()
}

/// The SQLSTATE expected for a file, None when it must embed.
fn expected_sqlstate(file: &str, pillow: &str) -> Option<&'static str> {
    if file.ends_with(".avif") {
        Some("0A000") // Pillow has an AV1 decoder; we say so instead of guessing
    } else if pillow.starts_with("ok,") {
        None
    } else if pillow.contains("DecompressionBombError") {
        Some("54000")
    } else {
        Some("22P03")
    }
}

#[track_caller]
fn assert_no_panic(what: &str, result: &Result<Vec<f32>, EmbedError>) {
    match result {
        Ok(x) => assert!(x.iter().all(|v| v.is_finite()), "{what}: not finite"),
        // catch_unwind's fallback: a decoder panicked
        Err(EmbedError::UndecodableImage(m)) if m.contains("decoder failed") => {
            panic!("{what}: decoder panicked")
        }
        Err(
            EmbedError::UndecodableImage(_)
            | EmbedError::ImageTooLarge { .. }
            | EmbedError::UnsupportedFormat(_),
        ) => {}
        Err(e) => panic!("{what}: {e:?}"),
    }
}

#[test]
fn every_edge_file_embeds_or_fails_as_pillow_does() {
    let rows = manifest();
    let mut listed: Vec<&str> = rows.iter().map(|(f, _)| f.as_str()).collect();
    let mut on_disk: Vec<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../pg_test/data/images"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|f| f.starts_with("pillow_") && !f.ends_with(".txt"))
            .collect();
    listed.sort_unstable();
    on_disk.sort_unstable();
    assert_eq!(listed, on_disk, "every edge image is in the manifest");

    for (file, pillow) in &rows {
        let start = Instant::now();
        let result = preprocess_image(&edge(file), MAX);
        let took = start.elapsed();
        println!("{file}: {took:?} {:?}", result.as_ref().err());
        assert_no_panic(file, &result);
        assert_eq!(
            result.as_ref().err().map(|e| e.sqlstate()),
            expected_sqlstate(file, pillow),
            "{file}"
        );
        assert!(took < Duration::from_millis(300), "{file}: {took:?}");
    }
    let truncated = preprocess_image(&edge("pillow_truncated_jpeg.jpg"), MAX).unwrap_err();
    assert_eq!(
        truncated.to_string(),
        "cannot decode image: jpeg data is truncated"
    );
    let avif = preprocess_image(&edge("pillow_hopper.avif"), MAX).unwrap_err();
    assert!(
        avif.to_string()
            .starts_with("image format AVIF is not supported"),
        "{avif}"
    );
}

/// `x` (CHW, 224 x 224) turned 90 degrees clockwise.
fn rotate90(x: &[f32]) -> Vec<f32> {
    let n = INPUT_SIZE;
    let mut out = vec![0.0; x.len()];
    for c in 0..3 {
        for r in 0..n {
            for col in 0..n {
                out[c * n * n + r * n + col] = x[c * n * n + (n - 1 - col) * n + r];
            }
        }
    }
    out
}

/// Largest difference in 8-bit pixel units (the inputs are (v / 255 - mean) / std).
fn max_diff_255(a: &[f32], b: &[f32]) -> f32 {
    let std = [0.229f32, 0.224, 0.225];
    let plane = INPUT_SIZE * INPUT_SIZE;
    a.iter()
        .zip(b)
        .enumerate()
        .map(|(i, (x, y))| (x - y).abs() * std[i / plane] * 255.0)
        .fold(0.0, f32::max)
}

#[test]
fn exif_orientation_is_applied_before_resizing() {
    let tagged = edge("pillow_hopper_orientation_6.jpg");
    // the same file with its little-endian orientation entry (0x0112, SHORT,
    // count 1, value 6) set to 1
    let entry = [0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x00];
    let at = tagged
        .windows(entry.len())
        .position(|w| w == entry)
        .expect("orientation entry");
    let mut upright_tag = tagged.clone();
    upright_tag[at + 8] = 1;

    let rotated = preprocess_image(&tagged, MAX).unwrap();
    let stored = preprocess_image(&upright_tag, MAX).unwrap();
    // square, so resize and crop are the same along both axes; only the
    // order of Pillow's two rounded passes differs, by at most one unit
    let d = max_diff_255(&rotated, &rotate90(&stored));
    assert!(
        d <= 1.01,
        "rotated by orientation 6 vs the stored pixels turned: {d}"
    );
    assert!(
        max_diff_255(&rotated, &stored) > 50.0,
        "orientation ignored"
    );
}

/// Equal network inputs, reported by their largest difference, not in full.
#[track_caller]
fn assert_same(a: &[f32], b: &[f32], what: &str) {
    assert!(
        a == b,
        "{what}: differs by up to {} in 8-bit units",
        max_diff_255(a, b)
    );
}

fn encode(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    image.write_to(&mut Cursor::new(&mut out), format).unwrap();
    out
}

fn gif(frames: impl IntoIterator<Item = RgbaImage>) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = GifEncoder::new(&mut out);
        enc.encode_frames(frames.into_iter().map(Frame::new))
            .unwrap();
    }
    out
}

#[test]
fn transparency_is_white_in_every_format() {
    // colours under zero alpha must not show: Pillow's convert("RGB") would keep them
    let clear = RgbaImage::from_fn(40, 30, |x, y| Rgba([(x * 6) as u8, (y * 8) as u8, 99, 0]));
    let white = preprocess_image(
        &encode(
            &DynamicImage::ImageRgb8(RgbImage::from_pixel(40, 30, Rgb([255; 3]))),
            ImageFormat::Png,
        ),
        MAX,
    )
    .unwrap();
    let image = DynamicImage::ImageRgba8(clear.clone());
    for (what, bytes) in [
        ("png", encode(&image, ImageFormat::Png)),
        ("webp", encode(&image, ImageFormat::WebP)),
        ("tiff", encode(&image, ImageFormat::Tiff)),
        ("gif", gif([clear.clone()])),
    ] {
        assert_same(&preprocess_image(&bytes, MAX).unwrap(), &white, what);
    }
    // half-transparent red over white is (255, 127, 127) in every format
    let pink = RgbImage::from_pixel(40, 30, Rgb([255, 127, 127]));
    let pink = preprocess_image(
        &encode(&DynamicImage::ImageRgb8(pink), ImageFormat::Png),
        MAX,
    )
    .unwrap();
    let half = DynamicImage::ImageRgba8(RgbaImage::from_pixel(40, 30, Rgba([255, 0, 0, 128])));
    for format in [ImageFormat::Png, ImageFormat::WebP, ImageFormat::Tiff] {
        assert_same(
            &preprocess_image(&encode(&half, format), MAX).unwrap(),
            &pink,
            &format!("{format:?}"),
        );
    }
}

fn gradient() -> RgbImage {
    RgbImage::from_fn(300, 200, |x, y| {
        Rgb([(x % 256) as u8, (y + x / 3) as u8, (x * y % 251) as u8])
    })
}

#[test]
fn sixteen_bit_and_tiff_decode_like_eight_bit_png() {
    let rgb = gradient();
    let want = preprocess_image(
        &encode(&DynamicImage::ImageRgb8(rgb.clone()), ImageFormat::Png),
        MAX,
    )
    .unwrap();
    // 16 bits: the high byte is the 8-bit value, as Pillow reads it
    let wide: ImageBuffer<Rgb<u16>, Vec<u16>> = ImageBuffer::from_fn(300, 200, |x, y| {
        Rgb(rgb.get_pixel(x, y).0.map(|v| u16::from(v) << 8 | 0xA5))
    });
    let wide = DynamicImage::ImageRgb16(wide);
    assert_same(
        &preprocess_image(&encode(&wide, ImageFormat::Png), MAX).unwrap(),
        &want,
        "16-bit png",
    );
    assert_same(
        &preprocess_image(&encode(&wide, ImageFormat::Tiff), MAX).unwrap(),
        &want,
        "16-bit tiff",
    );
    let tiff = encode(&DynamicImage::ImageRgb8(rgb.clone()), ImageFormat::Tiff);
    assert_same(&preprocess_image(&tiff, MAX).unwrap(), &want, "tiff");
    let bmp = encode(&DynamicImage::ImageRgb8(rgb.clone()), ImageFormat::Bmp);
    assert_same(&preprocess_image(&bmp, MAX).unwrap(), &want, "bmp");

    // greyscale: copied to the three channels
    let grey = ImageBuffer::from_fn(300, 200, |x, y| Luma([rgb.get_pixel(x, y).0[1]]));
    let grey_rgb = RgbImage::from_fn(300, 200, |x, y| Rgb([grey.get_pixel(x, y).0[0]; 3]));
    let want = preprocess_image(
        &encode(&DynamicImage::ImageRgb8(grey_rgb), ImageFormat::Png),
        MAX,
    )
    .unwrap();
    let grey16: ImageBuffer<Luma<u16>, Vec<u16>> = ImageBuffer::from_fn(300, 200, |x, y| {
        Luma([u16::from(grey.get_pixel(x, y).0[0]) << 8])
    });
    for (what, image) in [
        ("grey png", DynamicImage::ImageLuma8(grey)),
        ("16-bit grey png", DynamicImage::ImageLuma16(grey16)),
    ] {
        assert_same(
            &preprocess_image(&encode(&image, ImageFormat::Png), MAX).unwrap(),
            &want,
            what,
        );
    }
}

/// PNG chunks (type, data) after the signature.
fn chunks(png: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
    let mut out = Vec::new();
    let mut i = 8;
    while i + 8 <= png.len() {
        let len = u32::from_be_bytes(png[i..i + 4].try_into().unwrap()) as usize;
        out.push((
            png[i + 4..i + 8].try_into().unwrap(),
            png[i + 8..i + 8 + len].to_vec(),
        ));
        i += 12 + len;
    }
    out
}

fn fctl(sequence: u32, width: u32, height: u32) -> Vec<u8> {
    let mut f = Vec::new();
    for v in [sequence, width, height, 0, 0] {
        f.extend_from_slice(&v.to_be_bytes());
    }
    f.extend_from_slice(&[0, 1, 0, 10, 0, 0]); // delay 1/10 s, no dispose, source blend
    f
}

#[test]
fn animations_give_their_first_frame() {
    let first = gradient();
    let second = RgbImage::from_fn(300, 200, |x, y| Rgb([(y % 256) as u8, 40, (x % 256) as u8]));
    let (a, b) = (
        DynamicImage::ImageRgb8(first.clone()),
        DynamicImage::ImageRgb8(second),
    );
    let (pa, pb) = (encode(&a, ImageFormat::Png), encode(&b, ImageFormat::Png));
    let want = preprocess_image(&pa, MAX).unwrap();

    // APNG: the default image (IDAT) is frame 0, an fdAT frame follows
    let mut apng = b"\x89PNG\r\n\x1a\n".to_vec();
    let (ca, cb) = (chunks(&pa), chunks(&pb));
    png_chunk(&mut apng, b"IHDR", &ca[0].1);
    png_chunk(&mut apng, b"acTL", &[0, 0, 0, 2, 0, 0, 0, 0]);
    png_chunk(&mut apng, b"fcTL", &fctl(0, 300, 200));
    for (kind, data) in ca.iter().filter(|(k, _)| k == b"IDAT") {
        png_chunk(&mut apng, kind, data);
    }
    png_chunk(&mut apng, b"fcTL", &fctl(1, 300, 200));
    let second_data: Vec<u8> = cb
        .iter()
        .filter(|(k, _)| k == b"IDAT")
        .flat_map(|(_, d)| d.clone())
        .collect();
    png_chunk(
        &mut apng,
        b"fdAT",
        &[&2u32.to_be_bytes()[..], &second_data].concat(),
    );
    png_chunk(&mut apng, b"IEND", &[]);
    assert_same(&preprocess_image(&apng, MAX).unwrap(), &want, "apng");
    assert!(
        preprocess_image(&pb, MAX).unwrap() != want,
        "the frames differ"
    );

    // GIF: 200 frames, only the first is read (frames are palette-quantised,
    // so compare with the first frame alone as a GIF)
    let red = RgbaImage::from_pixel(64, 64, Rgba([200, 30, 30, 255]));
    let blue = RgbaImage::from_pixel(64, 64, Rgba([30, 30, 200, 255]));
    let single = preprocess_image(&gif([red.clone()]), MAX).unwrap();
    let many = gif(std::iter::once(red).chain(std::iter::repeat(blue).take(199)));
    let start = Instant::now();
    assert_same(&preprocess_image(&many, MAX).unwrap(), &single, "gif");
    assert!(
        start.elapsed() < Duration::from_millis(100),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn truncations_and_noise_never_panic() {
    for (file, pillow) in manifest() {
        let bytes = edge(&file);
        let n = bytes.len();
        let mut cuts: Vec<usize> = vec![0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 100, 200, 500];
        cuts.extend((1..16).map(|k| n * k / 16));
        cuts.extend([
            n.saturating_sub(1),
            n.saturating_sub(2),
            n.saturating_sub(8),
        ]);
        for cut in cuts.into_iter().filter(|&c| c < n) {
            let what = format!("{file} cut at {cut} of {n}");
            let start = Instant::now();
            let result = preprocess_image(&bytes[..cut], MAX);
            assert_no_panic(&what, &result);
            assert!(
                start.elapsed() < Duration::from_millis(300),
                "{what}: {:?}",
                start.elapsed()
            );
            // Pillow calls every JPEG cut short truncated, even by its last byte
            if file.ends_with(".jpg") && pillow.starts_with("ok,") {
                assert!(
                    matches!(result, Err(EmbedError::UndecodableImage(_))),
                    "{what}"
                );
            }
        }
    }
    let headers: [&[u8]; 8] = [
        b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x40\0\0\0\x40\x08\x06\0\0\0",
        b"GIF89a\x40\0\x40\0\xf7\0\0",
        b"RIFF\0\x10\0\0WEBPVP8L\0\x10\0\0\x2f",
        b"RIFF\0\x10\0\0WEBPVP8 \0\x10\0\0\x50\x33\0\x9d\x01\x2a\x40\0\x40\0",
        b"II*\0\x08\0\0\0",
        b"BM\0\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0\x40\0\0\0\x40\0\0\0\x01\0\x18\0",
        b"\xff\xd8\xff\xc0\0\x11\x08\0\x40\0\x40\x03\x01\x22\0\x02\x11\x01\x03\x11\x01\xff\xda",
        b"\xff\xd8\xff\xc2\0\x0b\x08\0\x40\0\x40\x01\x01\x11\0\xff\xda",
    ];
    for (h, header) in headers.iter().enumerate() {
        for seed in 0..40 {
            let bytes = [*header, &noise(2048, seed)].concat();
            let start = Instant::now();
            assert_no_panic(
                &format!("header {h} seed {seed}"),
                &preprocess_image(&bytes, MAX),
            );
            assert!(
                start.elapsed() < Duration::from_millis(300),
                "header {h} seed {seed}"
            );
        }
    }
}
