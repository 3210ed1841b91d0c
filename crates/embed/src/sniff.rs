//! Structure checks on raw image bytes that the `image` crate does not make.

/// Pixel dimensions announced by a PNG, GIF or BMP header, read without a decoder.
///
/// The PNG decoder only reports dimensions once it has parsed every chunk up
/// to the first IDAT, so a bare bomb header would be "truncated" instead of
/// "too large"; the BMP decoder refuses sides over 65535 with a plain format
/// error. For GIF, Pillow counts the first frame's extent
/// (left + width, top + height) as part of the image size, while the `image`
/// crate reports only the logical screen: a tiny screen with a gigantic frame
/// is the classic GIF bomb.
pub(crate) fn announced_dimensions(b: &[u8]) -> Option<(u32, u32)> {
    if b.starts_with(b"\x89PNG\r\n\x1a\n") && b.len() >= 24 && &b[12..16] == b"IHDR" {
        let be = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        return Some((be(16), be(20)));
    }
    if (b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a")) && b.len() >= 13 {
        let le = |i: usize| u32::from(u16::from_le_bytes([b[i], b[i + 1]]));
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
        return Some((width, height));
    }
    if b.starts_with(b"BM") && b.len() >= 26 {
        let info_size = u32::from_le_bytes([b[14], b[15], b[16], b[17]]);
        if info_size == 12 {
            // OS/2 core header: unsigned 16-bit sides
            let le = |i: usize| u32::from(u16::from_le_bytes([b[i], b[i + 1]]));
            return Some((le(18), le(20)));
        }
        // negative height means top-down rows
        let le = |i: usize| i32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]).unsigned_abs();
        return Some((le(18), le(22)));
    }
    None
}

/// Whether a JPEG's marker structure runs through to its end-of-image marker.
///
/// The `image` crate's JPEG decoder fills missing scan data with grey and
/// succeeds on a truncated file; libjpeg (and so Pillow) reports it as
/// truncated. Walks the length-prefixed segments and skips entropy-coded data
/// after each SOS (where 0xFF is always followed by 0x00 or a restart marker).
pub(crate) fn jpeg_is_complete(b: &[u8]) -> bool {
    let mut i = 2; // after SOI
    while i + 1 < b.len() {
        if b[i] != 0xFF {
            return false;
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
