//! Pillow's BILINEAR `Image.resize` on 8-bit RGB, restricted to a crop window.
//!
//! Pillow resamples separably with a triangle filter whose support grows
//! with the downscale factor (so it antialiases), turns each output's
//! weights into 22-bit fixed point, runs the horizontal pass first and
//! rounds and clips to u8 after each pass. Matching that bit for bit is what
//! lets the reference's pixels be reproduced. Each output pixel only depends
//! on its own row and column weights, so computing just the 224x224 crop
//! window gives the same pixels as resizing fully and cropping, at a cost
//! that no longer depends on how elongated the image is.

use crate::image_prep::Rgb8;

/// Pillow: 32 bits, minus 8 for the pixel, minus 2 for headroom.
const PRECISION_BITS: u32 = 32 - 8 - 2;

/// Fixed-point weights of a run of consecutive output pixels along one axis.
struct Weights {
    /// (first input index, number of taps) per output pixel
    spans: Vec<(usize, usize)>,
    /// `taps` weights per output pixel, padded with zeros
    weights: Vec<i32>,
    taps: usize,
}

/// Weights for outputs `first..first + count` of resizing `in_size` to `out_size`.
fn weights(in_size: usize, out_size: usize, first: usize, count: usize) -> Weights {
    let scale = in_size as f64 / out_size as f64;
    let filter_scale = scale.max(1.0);
    // the triangle filter has support 1, widened when downscaling
    let support = filter_scale;
    let inv_scale = 1.0 / filter_scale;
    let taps = support.ceil() as usize * 2 + 1;
    let mut spans = Vec::with_capacity(count);
    let mut weights = vec![0i32; count * taps];
    let mut w = vec![0f64; taps];

    for (i, out) in (first..first + count).enumerate() {
        let center = (out as f64 + 0.5) * scale;
        // C's (int) cast truncates toward zero, as Rust's `as` does
        let lo = ((center - support + 0.5) as i64).max(0) as usize;
        let hi = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
        let n = hi.saturating_sub(lo).min(taps);
        let mut total = 0f64;
        for (k, wk) in w.iter_mut().enumerate().take(n) {
            let x = ((lo + k) as f64 - center + 0.5) * inv_scale;
            *wk = triangle(x);
            total += *wk;
        }
        let row = &mut weights[i * taps..i * taps + n];
        for (dst, &wk) in row.iter_mut().zip(&w[..n]) {
            let wk = if total != 0.0 { wk / total } else { wk };
            // round half away from zero into fixed point, as Pillow does
            let fixed = wk * f64::from(1u32 << PRECISION_BITS);
            *dst = if fixed < 0.0 {
                (fixed - 0.5).trunc()
            } else {
                (fixed + 0.5).trunc()
            } as i32;
        }
        spans.push((lo, n));
    }
    Weights {
        spans,
        weights,
        taps,
    }
}

fn triangle(x: f64) -> f64 {
    let x = x.abs();
    if x < 1.0 {
        1.0 - x
    } else {
        0.0
    }
}

/// Fixed-point accumulator back to u8: drop the fraction, clip to 0..=255.
fn clip8(acc: i32) -> u8 {
    (acc >> PRECISION_BITS).clamp(0, 255) as u8
}

const HALF: i32 = 1 << (PRECISION_BITS - 1);

/// Resize `src` to `out_w` x `out_h` and return the `size` x `size` window
/// at (`left`, `top`) as interleaved RGB. The window must lie inside.
pub(crate) fn resize_crop(
    src: &Rgb8,
    out_w: usize,
    out_h: usize,
    left: usize,
    top: usize,
    size: usize,
) -> Vec<u8> {
    debug_assert!(left + size <= out_w && top + size <= out_h);
    let horiz = weights(src.width, out_w, left, size);
    let vert = weights(src.height, out_h, top, size);

    // horizontal pass over only the source rows the vertical pass reads
    let row_lo = vert.spans.iter().map(|s| s.0).min().unwrap_or(0);
    let row_hi = vert.spans.iter().map(|s| s.0 + s.1).max().unwrap_or(0);
    let stride = src.width * 3;
    let mut mid = vec![0u8; (row_hi - row_lo) * size * 3];
    for (y, mid_row) in (row_lo..row_hi).zip(mid.chunks_exact_mut(size * 3)) {
        let src_row = &src.data[y * stride..(y + 1) * stride];
        for (x, &(lo, n)) in horiz.spans.iter().enumerate() {
            let w = &horiz.weights[x * horiz.taps..x * horiz.taps + n];
            let mut acc = [HALF; 3];
            for (k, &wk) in w.iter().enumerate() {
                let p = &src_row[(lo + k) * 3..(lo + k) * 3 + 3];
                for c in 0..3 {
                    acc[c] += i32::from(p[c]) * wk;
                }
            }
            for c in 0..3 {
                mid_row[x * 3 + c] = clip8(acc[c]);
            }
        }
    }

    let mut out = vec![0u8; size * size * 3];
    let mid_stride = size * 3;
    for (y, &(lo, n)) in vert.spans.iter().enumerate() {
        let w = &vert.weights[y * vert.taps..y * vert.taps + n];
        let out_row = &mut out[y * mid_stride..(y + 1) * mid_stride];
        for (i, dst) in out_row.iter_mut().enumerate() {
            let mut acc = HALF;
            for (k, &wk) in w.iter().enumerate() {
                acc += i32::from(mid[(lo - row_lo + k) * mid_stride + i]) * wk;
            }
            *dst = clip8(acc);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_size_is_identity() {
        let data: Vec<u8> = (0..4 * 4 * 3).map(|v| (v * 7 % 256) as u8).collect();
        let src = Rgb8 {
            width: 4,
            height: 4,
            data: data.clone(),
        };
        assert_eq!(resize_crop(&src, 4, 4, 0, 0, 4), data);
    }

    #[test]
    fn halving_uses_widened_triangle() {
        // 4 -> 2: support 2, so output 0 (centre 1.0) reads inputs 0..3 with
        // raw weights 0.75 0.75 0.25, normalised to 3/7 3/7 1/7; output 1 mirrors it
        let w = weights(4, 2, 0, 2);
        assert_eq!(w.spans, vec![(0, 3), (1, 3)]);
        let full = f64::from(1u32 << PRECISION_BITS);
        let expect = [3.0 / 7.0, 3.0 / 7.0, 1.0 / 7.0];
        for (k, e) in expect.iter().enumerate() {
            assert_eq!(w.weights[k], (e * full + 0.5) as i32);
            assert_eq!(w.weights[w.taps + 2 - k], w.weights[k]);
        }
    }

    #[test]
    fn constant_image_stays_constant() {
        let src = Rgb8 {
            width: 37,
            height: 23,
            data: vec![200; 37 * 23 * 3],
        };
        assert!(resize_crop(&src, 80, 50, 3, 5, 40)
            .iter()
            .all(|&v| v == 200));
        assert!(resize_crop(&src, 10, 6, 1, 1, 5).iter().all(|&v| v == 200));
    }
}
