//! torchvision MobileNetV2 (width 1.0, ImageNet-1k), inference only.
//!
//! BatchNorm is folded into the preceding convolution at load time, so each
//! conv + BN (+ ReLU6) is one weight, one bias and a clamp. Feature maps are
//! kept channels-last, (H, W, C): a 1x1 conv is then one (H*W, C_in) x
//! (C_in, C_out) matrix product, and the 3x3 depthwise conv, a custom op
//! (candle's grouped conv2d runs one tiny convolution per channel), works on
//! contiguous channel vectors that vectorise.

use std::path::{Path, PathBuf};

use candle_core::{CpuStorage, CustomOp1, DType, Device, Layout, Module, Shape, Tensor};
use candle_nn::{Linear, VarBuilder};

use crate::image_prep::{preprocess_image, INPUT_SIZE};
use crate::EmbedError;

/// Subdirectory of the model directory holding the converted weights.
pub const IMAGE_MODEL_SUBDIR: &str = "mobilenet-v2";
/// Width of the pooled feature vector.
pub const IMAGE_FEATURES_DIM: usize = 1280;
/// ImageNet-1k classes.
pub const NUM_CLASSES: usize = 1000;

const BN_EPS: f64 = 1e-5;
const STEM_CHANNELS: usize = 32;
/// torchvision's inverted residual settings: expansion t, channels c, repeats n, first stride s.
const SETTINGS: [(usize, usize, usize, usize); 7] = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
];

/// Output of [`ImageEncoder::embed`].
#[derive(Debug, Clone, PartialEq)]
pub struct ImageEmbedding {
    /// Globally average-pooled last feature map (1280), L2-normalised.
    pub features: Vec<f32>,
    /// ImageNet-1k logits (1000), computed from the unnormalised pooled vector.
    pub logits: Vec<f32>,
}

/// MobileNetV2 with its preprocessing.
pub struct ImageEncoder {
    stem: Stem,
    blocks: Vec<InvertedResidual>,
    head: Pointwise,
    classifier: Linear,
}

impl ImageEncoder {
    /// Load from `model_dir/mobilenet-v2/model.safetensors` (made by models/fetch.sh).
    pub fn load(model_dir: &Path) -> Result<Self, EmbedError> {
        let path = model_dir.join(IMAGE_MODEL_SUBDIR).join("model.safetensors");
        if !path.is_file() {
            return Err(EmbedError::ModelMissing { path });
        }
        // SAFETY: the mapping only lives while the weights are copied out
        // below; fetch.sh installs files by rename, never rewriting in place.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[&path], DType::F32, &Device::Cpu) }
            .map_err(|e| EmbedError::corrupt(&path, e))?;
        let w = Weights { vb, path };

        let stem = Stem::load(&w)?;
        let mut blocks = Vec::new();
        let mut inp = STEM_CHANNELS;
        for (t, c, n, s) in SETTINGS {
            for i in 0..n {
                let index = blocks.len() + 1;
                let stride = if i == 0 { s } else { 1 };
                blocks.push(InvertedResidual::load(&w, index, inp, c, t, stride)?);
                inp = c;
            }
        }
        let head_index = blocks.len() + 1;
        let head = Pointwise::load(
            &w,
            &format!("features.{head_index}.0"),
            &format!("features.{head_index}.1"),
            inp,
            IMAGE_FEATURES_DIM,
            true,
        )?;
        let classifier = Linear::new(
            w.get((NUM_CLASSES, IMAGE_FEATURES_DIM), "classifier.1.weight")?,
            Some(w.get(NUM_CLASSES, "classifier.1.bias")?),
        );
        Ok(ImageEncoder {
            stem,
            blocks,
            head,
            classifier,
        })
    }

    /// Decode, preprocess and embed one image. Images with more than
    /// `max_pixels` pixels are refused before being decoded.
    pub fn embed(&self, image: &[u8], max_pixels: u64) -> Result<ImageEmbedding, EmbedError> {
        let input = preprocess_image(image, max_pixels)?;
        self.forward(&input)
            .map_err(|e| EmbedError::internal(format!("image model failed: {e}")))
    }

    fn forward(&self, input: &[f32]) -> candle_core::Result<ImageEmbedding> {
        let mut x = self.stem.forward(input)?;
        for block in &self.blocks {
            x = block.forward(&x)?;
        }
        x = self.head.forward(&x)?;
        let pooled = x.flatten_to(1)?.mean(0)?; // (7, 7, 1280) -> (1280)
        let logits = self.classifier.forward(&pooled.unsqueeze(0)?)?.squeeze(0)?;
        let pooled = pooled.to_vec1::<f32>()?;
        let norm = pooled.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
        let mut features: Vec<f32> = pooled.iter().map(|v| v / norm).collect();
        crate::flush_tiny(&mut features);
        Ok(ImageEmbedding {
            features,
            logits: logits.to_vec1::<f32>()?,
        })
    }
}

/// Tensor access with errors pointing at the weights file.
struct Weights<'a> {
    vb: VarBuilder<'a>,
    path: PathBuf,
}

impl Weights<'_> {
    fn get(&self, shape: impl Into<Shape>, name: &str) -> Result<Tensor, EmbedError> {
        self.vb
            .get(shape, name)
            .map_err(|e| EmbedError::corrupt(&self.path, format!("{name}: {e}")))
    }

    fn vec(&self, shape: impl Into<Shape>, name: &str) -> Result<Vec<f32>, EmbedError> {
        self.get(shape, name)?
            .flatten_all()
            .and_then(|t| t.to_vec1::<f32>())
            .map_err(|e| EmbedError::corrupt(&self.path, format!("{name}: {e}")))
    }

    /// Conv weight (c_out first) with BatchNorm folded in: w * g / sqrt(v + eps)
    /// and bias b - m * g / sqrt(v + eps), computed in f64.
    fn conv_bn(
        &self,
        conv: &str,
        bn: &str,
        shape: &[usize],
    ) -> Result<(Vec<f32>, Vec<f32>), EmbedError> {
        let c_out = shape[0];
        let mut weight = self.vec(shape.to_vec(), &format!("{conv}.weight"))?;
        let gamma = self.vec(c_out, &format!("{bn}.weight"))?;
        let beta = self.vec(c_out, &format!("{bn}.bias"))?;
        let mean = self.vec(c_out, &format!("{bn}.running_mean"))?;
        let var = self.vec(c_out, &format!("{bn}.running_var"))?;
        let per_out = weight.len() / c_out;
        let mut bias = Vec::with_capacity(c_out);
        for (o, chunk) in weight.chunks_exact_mut(per_out).enumerate() {
            let scale = f64::from(gamma[o]) / (f64::from(var[o]) + BN_EPS).sqrt();
            for v in chunk.iter_mut() {
                *v = (f64::from(*v) * scale) as f32;
            }
            bias.push((f64::from(beta[o]) - f64::from(mean[o]) * scale) as f32);
        }
        Ok((weight, bias))
    }

    fn tensor(&self, data: Vec<f32>, shape: impl Into<Shape>) -> Result<Tensor, EmbedError> {
        Tensor::from_vec(data, shape, &Device::Cpu).map_err(EmbedError::internal)
    }
}

fn relu6(x: &Tensor) -> candle_core::Result<Tensor> {
    x.clamp(0f32, 6f32)
}

/// features.0: 3x3 stride-2 conv 3 -> 32, BN, ReLU6, as patches x weights:
/// the CHW image is unfolded into one 27-value patch per output pixel, which
/// yields the HWC map directly.
struct Stem {
    weight: Tensor, // (27, 32), rows in (channel, ky, kx) order
    bias: Tensor,   // (32)
}

/// Output side of the stem: 224 -> 112.
const STEM_OUT: usize = INPUT_SIZE / 2;

impl Stem {
    fn load(w: &Weights) -> Result<Self, EmbedError> {
        let (weight, bias) =
            w.conv_bn("features.0.0", "features.0.1", &[STEM_CHANNELS, 3, 3, 3])?;
        let weight = w
            .tensor(weight, (STEM_CHANNELS, 27))?
            .t()
            .and_then(|t| t.contiguous())
            .map_err(EmbedError::internal)?;
        Ok(Stem {
            weight,
            bias: w.tensor(bias, STEM_CHANNELS)?,
        })
    }

    fn forward(&self, chw: &[f32]) -> candle_core::Result<Tensor> {
        let n = INPUT_SIZE;
        let mut patches = vec![0f32; STEM_OUT * STEM_OUT * 27];
        for (o, patch) in patches.chunks_exact_mut(27).enumerate() {
            let (oy, ox) = (o / STEM_OUT, o % STEM_OUT);
            for (i, v) in patch.iter_mut().enumerate() {
                let (c, ky, kx) = (i / 9, i / 3 % 3, i % 3);
                // stride 2, padding 1: zero outside the image
                if let (Some(iy), Some(ix)) =
                    ((2 * oy + ky).checked_sub(1), (2 * ox + kx).checked_sub(1))
                {
                    if iy < n && ix < n {
                        *v = chw[(c * n + iy) * n + ix];
                    }
                }
            }
        }
        let patches = Tensor::from_vec(patches, (STEM_OUT * STEM_OUT, 27), &Device::Cpu)?;
        let y = relu6(&patches.matmul(&self.weight)?.broadcast_add(&self.bias)?)?;
        y.reshape((STEM_OUT, STEM_OUT, STEM_CHANNELS))
    }
}

/// 1x1 conv + BN (+ ReLU6) as one matrix product over the (H*W, C) map.
struct Pointwise {
    weight: Tensor, // (c_in, c_out)
    bias: Tensor,   // (c_out)
    relu6: bool,
}

impl Pointwise {
    fn load(
        w: &Weights,
        conv: &str,
        bn: &str,
        c_in: usize,
        c_out: usize,
        relu6: bool,
    ) -> Result<Self, EmbedError> {
        let (weight, bias) = w.conv_bn(conv, bn, &[c_out, c_in, 1, 1])?;
        let weight = w
            .tensor(weight, (c_out, c_in))?
            .t()
            .and_then(|t| t.contiguous())
            .map_err(EmbedError::internal)?;
        Ok(Pointwise {
            weight,
            bias: w.tensor(bias, c_out)?,
            relu6,
        })
    }
}

impl Module for Pointwise {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let (h, w, c) = x.dims3()?;
        let y = x
            .reshape((h * w, c))?
            .matmul(&self.weight)?
            .broadcast_add(&self.bias)?;
        let y = if self.relu6 { relu6(&y)? } else { y };
        y.reshape((h, w, ()))
    }
}

/// 3x3 depthwise conv (padding 1) + folded BN + ReLU6 on an (H, W, C) map.
struct Depthwise {
    stride: usize,
    weight: Vec<f32>, // 9 taps x C, tap-major so each tap is a channel vector
    bias: Vec<f32>,
}

impl Depthwise {
    fn load(
        w: &Weights,
        conv: &str,
        bn: &str,
        channels: usize,
        stride: usize,
    ) -> Result<Self, EmbedError> {
        let (per_channel, bias) = w.conv_bn(conv, bn, &[channels, 1, 3, 3])?;
        let weight = (0..9)
            .flat_map(|tap| per_channel.iter().skip(tap).step_by(9).copied())
            .collect();
        Ok(Depthwise {
            stride,
            weight,
            bias,
        })
    }
}

impl CustomOp1 for Depthwise {
    fn name(&self) -> &'static str {
        "depthwise3x3-bn-relu6"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let CpuStorage::F32(data) = storage else {
            candle_core::bail!("depthwise conv expects f32 input")
        };
        let Some((start, end)) = layout.contiguous_offsets() else {
            candle_core::bail!("depthwise conv expects a contiguous input")
        };
        let (h, w, c) = layout.shape().dims3()?;
        if c != self.bias.len() {
            candle_core::bail!(
                "depthwise conv: {c} channels in, weights for {}",
                self.bias.len()
            )
        }
        let s = self.stride;
        let (ho, wo) = ((h - 1) / s + 1, (w - 1) / s + 1);
        let x = &data[start..end];
        let mut out = vec![0f32; ho * wo * c];
        for (o, acc) in out.chunks_exact_mut(c).enumerate() {
            let (oy, ox) = (o / wo, o % wo);
            acc.copy_from_slice(&self.bias);
            for ky in 0..3 {
                // input row oy * s + ky - 1, skipped where it falls in the padding
                let Some(iy) = (oy * s + ky).checked_sub(1).filter(|&iy| iy < h) else {
                    continue;
                };
                for kx in 0..3 {
                    let Some(ix) = (ox * s + kx).checked_sub(1).filter(|&ix| ix < w) else {
                        continue;
                    };
                    let px = &x[(iy * w + ix) * c..(iy * w + ix + 1) * c];
                    let tap = &self.weight[(ky * 3 + kx) * c..(ky * 3 + kx + 1) * c];
                    for ((a, &v), &k) in acc.iter_mut().zip(px).zip(tap) {
                        *a += k * v;
                    }
                }
            }
            for a in acc.iter_mut() {
                *a = a.clamp(0.0, 6.0);
            }
        }
        Ok((CpuStorage::F32(out), Shape::from((ho, wo, c))))
    }
}

/// torchvision InvertedResidual: [1x1 expand] -> 3x3 depthwise -> 1x1 project, skip when shapes allow.
struct InvertedResidual {
    expand: Option<Pointwise>,
    depthwise: Depthwise,
    project: Pointwise,
    residual: bool,
}

impl InvertedResidual {
    fn load(
        w: &Weights,
        index: usize,
        inp: usize,
        out: usize,
        t: usize,
        stride: usize,
    ) -> Result<Self, EmbedError> {
        let p = format!("features.{index}.conv");
        let hidden = inp * t;
        // torchvision numbers the submodules differently without the expansion layer
        let (expand, dw, project, project_bn) = if t == 1 {
            (None, 0, 1, 2)
        } else {
            (
                Some(Pointwise::load(
                    w,
                    &format!("{p}.0.0"),
                    &format!("{p}.0.1"),
                    inp,
                    hidden,
                    true,
                )?),
                1,
                2,
                3,
            )
        };
        Ok(InvertedResidual {
            expand,
            depthwise: Depthwise::load(
                w,
                &format!("{p}.{dw}.0"),
                &format!("{p}.{dw}.1"),
                hidden,
                stride,
            )?,
            project: Pointwise::load(
                w,
                &format!("{p}.{project}"),
                &format!("{p}.{project_bn}"),
                hidden,
                out,
                false,
            )?,
            residual: stride == 1 && inp == out,
        })
    }
}

impl Module for InvertedResidual {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let h = match &self.expand {
            Some(e) => e.forward(x)?,
            None => x.clone(),
        };
        let h = h.contiguous()?.apply_op1_no_bwd(&self.depthwise)?;
        let y = self.project.forward(&h)?;
        if self.residual {
            y + x
        } else {
            Ok(y)
        }
    }
}
