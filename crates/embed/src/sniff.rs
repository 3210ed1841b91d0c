//! Structure checks on raw image bytes that the decoders do not make, or
//! make only after they have allocated.

/// Pixel dimensions announced by an image's header, read without a decoder,
/// so that a bomb is refused before any decoder allocates for it.
///
/// The PNG decoder only reports dimensions once it has parsed every chunk up
/// to the first IDAT, so a bare bomb header would be "truncated" instead of
/// "too large"; the BMP decoder refuses sides over 65535 with a plain format
/// error. For GIF, Pillow counts the first frame's extent
/// (left + width, top + height) as part of the image size, while the `image`
/// crate reports only the logical screen: a tiny screen with a gigantic frame
/// is the classic GIF bomb. JPEG, WebP and TIFF are read here too so that
/// every format is refused at the same point, before a decoder exists.
pub(crate) fn announced_dimensions(b: &[u8]) -> Option<(u32, u32)> {
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        return (b.len() >= 24 && &b[12..16] == b"IHDR").then(|| (be32(b, 16), be32(b, 20)));
    }
    if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        return gif_dimensions(b);
    }
    if b.starts_with(b"BM") && b.len() >= 26 {
        if le32(b, 14) == 12 {
            // OS/2 core header: unsigned 16-bit sides
            return Some((u32::from(le16(b, 18)), u32::from(le16(b, 20))));
        }
        // negative height means top-down rows
        return Some((
            (le32(b, 18) as i32).unsigned_abs(),
            (le32(b, 22) as i32).unsigned_abs(),
        ));
    }
    if b.starts_with(&[0xFF, 0xD8]) {
        return jpeg_header_segments(b)
            .find(|&(marker, p)| is_sof(marker) && p.len() >= 5)
            .map(|(_, p)| (u32::from(be16(p, 3)), u32::from(be16(p, 1))));
    }
    if b.len() >= 30 && b.starts_with(b"RIFF") && &b[8..12] == b"WEBP" {
        return webp_dimensions(&b[12..16], &b[20..]);
    }
    if b.starts_with(b"II*\0") || b.starts_with(b"MM\0*") {
        return tiff_dimensions(b);
    }
    None
}

/// A recognised image format that no decoder here handles, by name.
///
/// AVIF and HEIF (the iPhone's HEIC) are ISO-BMFF files whose `ftyp` box
/// names the format: AV1 and HEVC decoders are C libraries, and there is no
/// pure-Rust AV1 still-image decoder we would trust with hostile input.
pub(crate) fn unsupported_format(b: &[u8]) -> Option<&'static str> {
    if b.len() < 16 || &b[4..8] != b"ftyp" {
        return None;
    }
    let size = (be32(b, 0) as usize).clamp(16, b.len());
    // the major brand, then the compatible brands after the minor version
    let brands = std::iter::once(&b[8..12]).chain(b[16..size].chunks_exact(4));
    let mut found = None;
    for brand in brands {
        match brand {
            b"avif" | b"avis" => return Some("AVIF"),
            b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"mif1" | b"msf1" => {
                found = Some("HEIF")
            }
            _ => {}
        }
    }
    found
}

fn be16(b: &[u8], i: usize) -> u16 {
    u16::from_be_bytes([b[i], b[i + 1]])
}

fn be32(b: &[u8], i: usize) -> u32 {
    u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

fn le16(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}

fn le32(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

fn gif_dimensions(b: &[u8]) -> Option<(u32, u32)> {
    if b.len() < 13 {
        return None;
    }
    let le = |i: usize| u32::from(le16(b, i));
    let (mut width, mut height) = (le(6), le(8));
    let mut i = 13;
    if b[10] & 0x80 != 0 {
        i += 3 << ((b[10] & 0x07) + 1); // global colour table
    }
    // skip extension blocks up to the first image descriptor
    while i + 1 < b.len() && b[i] == 0x21 {
        i += 2;
        while let Some(&len) = b.get(i) {
            i += 1 + usize::from(len);
            if len == 0 {
                break;
            }
        }
    }
    if b.get(i) == Some(&0x2C) && i + 9 <= b.len() {
        width = width.max(le(i + 1) + le(i + 5));
        height = height.max(le(i + 3) + le(i + 7));
    }
    Some((width, height))
}

/// `kind` is the first chunk's FourCC, `p` its payload.
fn webp_dimensions(kind: &[u8], p: &[u8]) -> Option<(u32, u32)> {
    let le24 = |i: usize| u32::from_le_bytes([p[i], p[i + 1], p[i + 2], 0]);
    match kind {
        // extended: the canvas, 24 bits per side minus one
        b"VP8X" => Some((le24(4) + 1, le24(7) + 1)),
        // lossless: signature 0x2f, then 14 bits per side minus one
        b"VP8L" if p[0] == 0x2F => {
            let bits = le32(p, 1);
            Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
        }
        // lossy key frame: 3 tag bytes, start code 9d 01 2a, 14-bit sides
        b"VP8 " if p[3..6] == [0x9D, 0x01, 0x2A] => Some((
            u32::from(le16(p, 6) & 0x3FFF),
            u32::from(le16(p, 8) & 0x3FFF),
        )),
        _ => None,
    }
}

/// ImageWidth (256) and ImageLength (257) of a classic TIFF's first IFD.
fn tiff_dimensions(b: &[u8]) -> Option<(u32, u32)> {
    let little = b[0] == b'I';
    let get16 = |i: usize| {
        b.get(i..i + 2)
            .map(|_| if little { le16(b, i) } else { be16(b, i) })
    };
    let get32 = |i: usize| {
        b.get(i..i + 4)
            .map(|_| if little { le32(b, i) } else { be32(b, i) })
    };
    let ifd = get32(4)? as usize;
    let entries = usize::from(get16(ifd)?);
    let (mut width, mut height) = (None, None);
    for e in (0..entries).map(|k| ifd + 2 + 12 * k) {
        let value = match get16(e + 2)? {
            3 => u32::from(get16(e + 8)?), // SHORT, left-justified in the value field
            4 => get32(e + 8)?,            // LONG
            _ => continue,
        };
        match get16(e)? {
            256 => width = Some(value),
            257 => height = Some(value),
            _ => {}
        }
    }
    Some((width?, height?))
}

/// SOF markers: every JPEG process (C0-CF less DHT C4, JPG C8 and DAC CC).
fn is_sof(marker: u8) -> bool {
    matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC)
}

/// The length-prefixed segments (marker, payload) of a JPEG before its first
/// start-of-scan, in file order; stops at the first malformed one.
pub(crate) fn jpeg_header_segments(b: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    let mut i = 2; // after SOI
    std::iter::from_fn(move || loop {
        if b.get(i) != Some(&0xFF) {
            return None;
        }
        let marker = *b.get(i + 1)?;
        if marker == 0xFF {
            i += 1; // fill byte
            continue;
        }
        if marker == 0xD9 || marker == 0xDA || i + 4 > b.len() {
            return None;
        }
        let len = usize::from(be16(b, i + 2));
        let payload = b.get(i + 4..i + 2 + len.max(2))?;
        i += 2 + len;
        return Some((marker, payload));
    })
}

/// The TIFF-structured EXIF block of a JPEG's first `Exif` APP1 segment.
pub(crate) fn jpeg_exif(b: &[u8]) -> Option<&[u8]> {
    jpeg_header_segments(b)
        .find(|&(marker, p)| marker == 0xE1 && p.starts_with(b"Exif\0\0"))
        .map(|(_, p)| &p[6..])
}

/// Whether a JPEG's marker structure runs through to its end-of-image marker.
///
/// libjpeg (and so Pillow) reports a file without its end-of-image marker as
/// truncated, even when only the marker is missing; the TurboJPEG API only
/// warns and fills the missing part with grey, after decoding the whole
/// image. Walking the markers first refuses such a file before any decoding.
/// Skips entropy-coded data after each SOS (where 0xFF is always followed by
/// 0x00 or a restart marker) and, as libjpeg does, junk between segments.
pub(crate) fn jpeg_is_complete(b: &[u8]) -> bool {
    let mut i = 2; // after SOI
    while i + 1 < b.len() {
        if b[i] != 0xFF {
            i += 1; // junk between segments: libjpeg skips it with a warning
            continue;
        }
        let marker = b[i + 1];
        match marker {
            0xD9 => return true,
            0xFF => i += 1,               // fill byte
            0x01 | 0xD0..=0xD7 => i += 2, // markers without a length
            _ => {
                let Some(len) = b.get(i + 2..i + 4) else {
                    return false;
                };
                i += 2 + usize::from(u16::from_be_bytes([len[0], len[1]]));
                if marker == 0xDA {
                    while i + 1 < b.len()
                        && !(b[i] == 0xFF && b[i + 1] != 0x00 && !(0xD0..=0xD7).contains(&b[i + 1]))
                    {
                        i += 1;
                    }
                }
            }
        }
    }
    false
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gif_frame_extent_counts() {
        // Pillow's decompression bomb: 32x32 screen, frame at top 65280 of 65535x1321
        let bomb = [
            0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x20, 0x00, 0x20, 0x00, 0xf1, 0x03, 0x00, 0x00,
            0x00, 0x00, 0xff, 0x00, 0x00, 0xff, 0xff, 0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04,
            0xc9, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0x29, 0x05,
            0x00, 0x8f,
        ];
        assert_eq!(announced_dimensions(&bomb), Some((65535, 66601)));
    }

    #[test]
    fn jpeg_structure() {
        let minimal = [
            0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF,
            0xD9,
        ];
        assert!(jpeg_is_complete(&minimal));
        assert!(!jpeg_is_complete(&minimal[..minimal.len() - 2]));
        assert!(!jpeg_is_complete(&minimal[..5]));
    }
}
