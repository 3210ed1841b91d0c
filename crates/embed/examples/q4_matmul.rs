//! Measures the choice e5.rs makes for multilingual-e5-small's layers:
//! keep the 4-bit Q4_0 blocks and multiply with candle's quantised matmul,
//! or dequantise once at load and multiply in f32 with gemm, as bert.rs does.
//! Times one layer's four products (qkv 384->1152, attention out 384->384,
//! feed-forward 384->1536->384) on a batch of tokens, with every core.
//!
//!     cargo run --release -p retailml-embed --example q4_matmul [TOKENS]

use std::time::Instant;

use candle_core::quantized::{ggml_file::qtensor_from_ggml, GgmlDType, QMatMul};
use candle_core::{Device, Module, Tensor};
use gemm::Parallelism;

/// Deterministic pseudo-random bytes and values (no rand dependency).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn unit(&mut self) -> f32 {
        (self.next() % 2001) as f32 / 1000.0 - 1.0
    }
}

/// Q4_0 blocks of an (out x in) matrix: per 32 weights an fp16 scale, 16 bytes of nibbles.
fn q4_blocks(rng: &mut Lcg, out: usize, inp: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    for _ in 0..out * inp / 32 {
        bytes.extend_from_slice(&half_bits(0.01 + (rng.next() % 100) as f32 * 1e-4));
        bytes.extend((0..16).map(|_| rng.next() as u8));
    }
    bytes
}

fn half_bits(x: f32) -> [u8; 2] {
    // positive normal values only: enough for scales
    let bits = x.to_bits();
    let exponent = ((bits >> 23) & 0xff) as i32 - 127 + 15;
    let mantissa = (bits >> 13) & 0x3ff;
    (((exponent as u32) << 10 | mantissa) as u16).to_le_bytes()
}

fn main() {
    let tokens: usize = std::env::args().nth(1).map_or(4096, |t| t.parse().expect("TOKENS"));
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let shapes = [(1152, 384), (384, 384), (1536, 384), (384, 1536)];
    let mut rng = Lcg(7);
    let device = Device::Cpu;
    let (mut q4_s, mut f32_s, mut q4_bytes, mut f32_bytes) = (0.0, 0.0, 0, 0);
    for &(out, inp) in &shapes {
        let blocks = q4_blocks(&mut rng, out, inp);
        let qtensor = qtensor_from_ggml(GgmlDType::Q4_0, &blocks, vec![out, inp], &device).unwrap();
        let dense: Vec<f32> = qtensor.dequantize(&device).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        let qmatmul = QMatMul::from_qtensor(qtensor).unwrap();
        let x: Vec<f32> = (0..tokens * inp).map(|_| rng.unit()).collect();
        let xt = Tensor::from_vec(x.clone(), (tokens, inp), &device).unwrap();
        let mut y = vec![0f32; tokens * out];
        let q4_out: Vec<f32> = qmatmul.forward(&xt).unwrap().flatten_all().unwrap().to_vec1().unwrap(); // warm-up
        let run_f32 = |y: &mut [f32]| unsafe {
            // y (tokens x out) = x (tokens x inp) · Wᵀ, W row-major (out x inp)
            gemm::gemm(
                tokens, out, inp, y.as_mut_ptr(), 1, out as isize, false, x.as_ptr(), 1, inp as isize,
                dense.as_ptr(), inp as isize, 1, 0.0, 1.0, false, false, false, Parallelism::Rayon(threads),
            )
        };
        run_f32(&mut y);
        let worst = y.iter().zip(&q4_out).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        let scale = y.iter().map(|a| a.abs()).fold(0f32, f32::max);
        let reps = 5;
        let start = Instant::now();
        for _ in 0..reps {
            std::hint::black_box(qmatmul.forward(&xt).unwrap());
        }
        let q4 = start.elapsed().as_secs_f64() / reps as f64;
        let start = Instant::now();
        for _ in 0..reps {
            run_f32(&mut y);
        }
        let f = start.elapsed().as_secs_f64() / reps as f64;
        println!(
            "{inp:>5} -> {out:<5} q4 {:7.2} ms  f32 {:7.2} ms  (largest difference {:.1e} of {:.1e}: q4 also rounds x to 8 bits)",
            q4 * 1e3, f * 1e3, worst, scale
        );
        q4_s += q4;
        f32_s += f;
        q4_bytes += blocks.len();
        f32_bytes += dense.len() * 4;
    }
    println!(
        "one layer, {tokens} tokens, {threads} threads: q4 {:.1} ms, f32 {:.1} ms (q4/f32 time {:.2}); weights q4 {:.2} MB, f32 {:.2} MB; 12 layers: {:.0} MB more in f32",
        q4_s * 1e3, f32_s * 1e3, q4_s / f32_s, q4_bytes as f64 / 1e6, f32_bytes as f64 / 1e6,
        12.0 * (f32_bytes - q4_bytes) as f64 / 1e6
    );
}
