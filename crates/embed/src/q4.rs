//! GGML's Q4_0 blocks: 32 weights share one fp16 scale; weight j of a block
//! is (nibble j - 8) * scale, where byte j of the block's 16 holds weight j in
//! its low nibble and weight j + 16 in its high nibble.

/// Weights per block.
pub const BLOCK_WEIGHTS: usize = 32;
/// Bytes per block: the little-endian fp16 scale, then 16 bytes of nibbles.
pub const BLOCK_BYTES: usize = 18;

/// Bytes of Q4_0 data holding `weights` values (a multiple of 32).
pub fn byte_len(weights: usize) -> usize {
    weights / BLOCK_WEIGHTS * BLOCK_BYTES
}

/// Dequantise whole blocks into `out`, which holds 32 values per block.
pub fn dequantize(blocks: &[u8], out: &mut [f32]) {
    debug_assert_eq!(blocks.len() / BLOCK_BYTES * BLOCK_WEIGHTS, out.len());
    for (block, out) in blocks
        .chunks_exact(BLOCK_BYTES)
        .zip(out.chunks_exact_mut(BLOCK_WEIGHTS))
    {
        let scale = f16_to_f32(u16::from_le_bytes([block[0], block[1]]));
        for (j, &byte) in block[2..].iter().enumerate() {
            out[j] = (f32::from(byte & 0x0f) - 8.0) * scale;
            out[j + 16] = (f32::from(byte >> 4) - 8.0) * scale;
        }
    }
}

/// A row-major matrix kept in Q4_0, dequantised a row at a time.
pub struct Q4Matrix {
    blocks: Vec<u8>,
    rows: usize,
    cols: usize,
}

impl Q4Matrix {
    /// `None` unless `cols` is a multiple of 32 and `blocks` holds exactly
    /// `rows` x `cols` weights.
    pub fn new(blocks: Vec<u8>, rows: usize, cols: usize) -> Option<Self> {
        let weights = rows.checked_mul(cols)?;
        (cols.is_multiple_of(BLOCK_WEIGHTS) && blocks.len() == byte_len(weights))
            .then_some(Q4Matrix { blocks, rows, cols })
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Row `row` (below `rows()`) into `out` (`cols` long).
    pub fn row_into(&self, row: usize, out: &mut [f32]) {
        let row_bytes = byte_len(self.cols);
        dequantize(&self.blocks[row * row_bytes..(row + 1) * row_bytes], out);
    }
}

/// IEEE half to single precision, exactly (every half is a float).
fn f16_to_f32(bits: u16) -> f32 {
    let sign = u32::from(bits & 0x8000) << 16;
    let exponent = u32::from((bits >> 10) & 0x1f);
    let mantissa = u32::from(bits & 0x3ff);
    match exponent {
        // zero and subnormals: mantissa * 2^-24, exact in f32
        0 => {
            let magnitude = mantissa as f32 / 16_777_216.0;
            if sign == 0 {
                magnitude
            } else {
                -magnitude
            }
        }
        // infinities and NaNs
        31 => f32::from_bits(sign | 0x7f80_0000 | (mantissa << 13)),
        // rebias the exponent from 15 to 127
        _ => f32::from_bits(sign | ((exponent + 112) << 23) | (mantissa << 13)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_floats() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x83ff), -1023.0 * 2f32.powi(-24));
        assert!(f16_to_f32(0x8000) == 0.0 && f16_to_f32(0x8000).is_sign_negative());
        assert_eq!(f16_to_f32(0xfc00), f32::NEG_INFINITY);
        assert!(f16_to_f32(0x7e00).is_nan());
    }

    #[test]
    fn block_layout() {
        // scale 0.5; byte j = (high nibble 15 - j, low nibble j)
        let mut block = vec![0x00, 0x38];
        block.extend((0..16u8).map(|j| ((15 - j) << 4) | j));
        let mut out = [0f32; 32];
        dequantize(&block, &mut out);
        for j in 0..16 {
            assert_eq!(out[j], (j as f32 - 8.0) * 0.5);
            assert_eq!(out[j + 16], (7.0 - j as f32) * 0.5);
        }
    }

    #[test]
    fn matrix_rows() {
        let row = |scale: u8| {
            let mut b = vec![0x00, scale];
            b.extend([0x99u8; 16]); // every nibble 9: weight 1 * scale
            b
        };
        // two rows of 32: scales 1.0 (0x3c00) and 2.0 (0x4000)
        let m = Q4Matrix::new([row(0x3c), row(0x40)].concat(), 2, 32).unwrap();
        let mut out = [0f32; 32];
        m.row_into(1, &mut out);
        assert!(out.iter().all(|&v| v == 2.0));
        assert!(Q4Matrix::new(vec![0; 35], 2, 32).is_none());
        assert!(Q4Matrix::new(vec![0; 18], 1, 16).is_none());
        assert!(Q4Matrix::new(vec![], usize::MAX, 64).is_none());
    }
}
