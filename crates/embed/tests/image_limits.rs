//! Hostile headers are refused from the header, quickly and without
//! allocating for the pixels they announce. One test in this binary: the
//! allocation counter is process-wide, so nothing may run beside it.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use common::png_chunk;
use retailml_embed::{preprocess_image, EmbedError, DEFAULT_MAX_IMAGE_PIXELS as MAX};

/// The system allocator, counting live bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let now = LIVE.fetch_add(bytes, Relaxed) + bytes;
    PEAK.fetch_max(now, Relaxed);
}

// SAFETY: every call is forwarded to System unchanged; only counters are added
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        System.dealloc(p, layout);
        LIVE.fetch_sub(layout.size(), Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let q = System.realloc(p, layout, new_size);
        if !q.is_null() {
            LIVE.fetch_sub(layout.size(), Relaxed);
            grew(new_size);
        }
        q
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn png(width: u32, height: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let ihdr = [
        &width.to_be_bytes()[..],
        &height.to_be_bytes(),
        &[8, 2, 0, 0, 0],
    ]
    .concat();
    png_chunk(&mut png, b"IHDR", &ihdr);
    png_chunk(
        &mut png,
        b"IDAT",
        &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    png
}

/// SOI, a baseline frame header of three components, EOI.
fn jpeg(width: u16, height: u16) -> Vec<u8> {
    let mut j = vec![0xFF, 0xD8, 0xFF, 0xC0, 0x00, 17, 8];
    j.extend_from_slice(&height.to_be_bytes());
    j.extend_from_slice(&width.to_be_bytes());
    j.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xFF, 0xD9]);
    j
}

fn riff_webp(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut w = b"RIFF".to_vec();
    w.extend_from_slice(&(12 + payload.len() as u32).to_le_bytes());
    w.extend_from_slice(b"WEBP");
    w.extend_from_slice(kind);
    w.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    w.extend_from_slice(payload);
    w.resize(w.len().max(64), 0);
    w
}

/// Little-endian TIFF, one IFD with ImageWidth and ImageLength as LONGs.
fn tiff(width: u32, height: u32) -> Vec<u8> {
    let mut t = b"II*\0".to_vec();
    t.extend_from_slice(&8u32.to_le_bytes());
    t.extend_from_slice(&2u16.to_le_bytes());
    for (tag, value) in [(256u16, width), (257, height)] {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&4u16.to_le_bytes());
        t.extend_from_slice(&1u32.to_le_bytes());
        t.extend_from_slice(&value.to_le_bytes());
    }
    t.extend_from_slice(&0u32.to_le_bytes());
    t
}

fn bmp(width: i32, height: i32) -> Vec<u8> {
    let mut b = b"BM".to_vec();
    b.extend_from_slice(&[0; 8]);
    b.extend_from_slice(&54u32.to_le_bytes());
    b.extend_from_slice(&40u32.to_le_bytes());
    b.extend_from_slice(&width.to_le_bytes());
    b.extend_from_slice(&height.to_le_bytes());
    b.extend_from_slice(&[1, 0, 24, 0]);
    b.extend_from_slice(&[0; 24]);
    b
}

fn gif_screen(width: u16, height: u16) -> Vec<u8> {
    let mut g = b"GIF89a".to_vec();
    g.extend_from_slice(&width.to_le_bytes());
    g.extend_from_slice(&height.to_le_bytes());
    g.extend_from_slice(&[0, 0, 0, 0x3B]);
    g
}

#[test]
fn hostile_headers_are_refused_quickly_without_allocating() {
    let bomb = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../pg_test/data/images/pillow_decompression_bomb.gif"),
    )
    .unwrap();
    let vp8l_max = {
        // 14 bits of width - 1 and of height - 1, all ones: 16384 x 16384
        let bits: u32 = 0x3FFF | 0x3FFF << 14;
        [&[0x2F][..], &bits.to_le_bytes(), &[0; 8]].concat()
    };
    let vp8 = [
        &[0x50, 0x33, 0x00, 0x9D, 0x01, 0x2A][..],
        &0x3FFFu16.to_le_bytes(),
        &0x3FFFu16.to_le_bytes(),
    ]
    .concat();
    let cases: Vec<(&str, Vec<u8>, (u32, u32))> = vec![
        ("pillow's 44-byte gif bomb", bomb, (65535, 66601)),
        ("gif screen", gif_screen(65535, 65535), (65535, 65535)),
        ("png", png(100_000, 100_000), (100_000, 100_000)),
        (
            "png u32 sides",
            png(u32::MAX >> 1, u32::MAX >> 1),
            (u32::MAX >> 1, u32::MAX >> 1),
        ),
        ("jpeg", jpeg(65535, 65535), (65535, 65535)),
        ("jpeg just over", jpeg(9000, 9000), (9000, 9000)),
        (
            "webp vp8x canvas",
            riff_webp(b"VP8X", &[0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
            (1 << 24, 1 << 24),
        ),
        (
            "webp lossless",
            riff_webp(b"VP8L", &vp8l_max),
            (16384, 16384),
        ),
        ("webp lossy", riff_webp(b"VP8 ", &vp8), (16383, 16383)),
        ("tiff", tiff(100_000, 100_000), (100_000, 100_000)),
        ("bmp", bmp(100_000, -100_000), (100_000, 100_000)),
    ];
    for (what, bytes, (width, height)) in cases {
        let before = LIVE.load(Relaxed);
        PEAK.store(before, Relaxed);
        let start = Instant::now();
        let result = preprocess_image(&bytes, MAX);
        let took = start.elapsed();
        let allocated = PEAK.load(Relaxed) - before;
        println!(
            "{what} ({} bytes): {took:?}, peak {allocated} bytes allocated",
            bytes.len()
        );
        assert_eq!(
            result.err(),
            Some(EmbedError::ImageTooLarge {
                width,
                height,
                max_pixels: MAX
            }),
            "{what}"
        );
        assert!(took < Duration::from_millis(300), "{what}: {took:?}");
        assert!(allocated < 64 * 1024, "{what}: {allocated} bytes allocated");
    }
    // the counter sees a real decode: 2400x2000 RGB is 14 MB of pixels
    let real = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../pg_test/data/images/pillow_itxt_chunks.png"),
    )
    .unwrap();
    let before = LIVE.load(Relaxed);
    PEAK.store(before, Relaxed);
    preprocess_image(&real, MAX).unwrap();
    assert!(PEAK.load(Relaxed) - before > 14_000_000);
}
