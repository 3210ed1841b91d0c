//! torchvision MobileNetV2 (width 1.0, ImageNet-1k), inference only.
//!
//! BatchNorm is folded into the preceding convolution at load time, so each
//! conv + BN (+ ReLU6) is one weight, one bias and a clamp. Feature maps are
//! kept channels-last, (N, H, W, C): a 1x1 conv is then one (N*H*W, C_in) x
//! (C_in, C_out) matrix product over the whole batch, and the 3x3 depthwise
//! conv, a custom op (candle's grouped conv2d runs one tiny convolution per
//! channel), works on contiguous channel vectors that vectorise. Candle
//! serves only the matrix products; every other op here runs on the
//! caller's rayon pool.

use std::path::{Path, PathBuf};

use candle_core::{CpuStorage, CustomOp1, DType, Device, Layout, Module, Shape, Tensor};
use candle_nn::{Linear, VarBuilder};
use rayon::prelude::*;

use crate::image_prep::{preprocess_image, INPUT_SIZE};
use crate::vector::{softmax, top_k};
use crate::EmbedError;

/// Subdirectory of the model directory holding the converted weights.
pub const IMAGE_MODEL_SUBDIR: &str = "mobilenet-v2";
/// Width of the pooled feature vector.
pub const IMAGE_FEATURES_DIM: usize = 1280;
/// ImageNet-1k classes.
pub const NUM_CLASSES: usize = 1000;
/// Subdirectory of the model directory holding the ImageNet-1k class names:
/// `labels.txt`, one a line in torchvision's index order (made by models/fetch.sh).
pub const IMAGE_LABELS_SUBDIR: &str = "imagenet-classes";
/// Values in one preprocessed image (3 x 224 x 224, CHW).
const INPUT_LEN: usize = 3 * INPUT_SIZE * INPUT_SIZE;

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
        let mut out = self.embed_preprocessed(&[input])?;
        out.pop()
            .ok_or_else(|| EmbedError::internal("image model returned no output"))
    }

    /// Embed preprocessed images ([`preprocess_images`]) as one batch of
    /// N x 3 x 224 x 224: each 1x1 convolution is then one matrix product
    /// over all N images, which uses the cores better than N small ones.
    pub fn embed_preprocessed(
        &self,
        inputs: &[Vec<f32>],
    ) -> Result<Vec<ImageEmbedding>, EmbedError> {
        if inputs.iter().any(|x| x.len() != INPUT_LEN) {
            return Err(EmbedError::internal("preprocessed image of the wrong size"));
        }
        if inputs.is_empty() {
            return Ok(Vec::new());
        }
        self.forward(inputs)
            .map_err(|e| EmbedError::internal(format!("image model failed: {e}")))
    }

    fn forward(&self, inputs: &[Vec<f32>]) -> candle_core::Result<Vec<ImageEmbedding>> {
        let mut x = self.stem.forward(inputs)?;
        for block in &self.blocks {
            x = block.forward(&x)?;
        }
        x = self.head.forward(&x, None)?;
        let (n, h, w, c) = x.dims4()?;
        let pooled = x.reshape((n, h * w, c))?.mean(1)?; // (N, 7, 7, 1280) -> (N, 1280)
        let logits = self.classifier.forward(&pooled)?.to_vec2::<f32>()?;
        let pooled = pooled.to_vec2::<f32>()?;
        Ok(pooled
            .into_iter()
            .zip(logits)
            .map(|(pooled, logits)| {
                let norm = pooled.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
                let mut features: Vec<f32> = pooled.iter().map(|v| v / norm).collect();
                crate::flush_tiny(&mut features);
                ImageEmbedding { features, logits }
            })
            .collect())
    }
}

/// Decode and preprocess images on the current rayon pool, in input order.
/// The first image that fails (in input order) gives its index and error.
pub fn preprocess_images(
    images: &[&[u8]],
    max_pixels: u64,
) -> Result<Vec<Vec<f32>>, (usize, EmbedError)> {
    let results: Vec<_> = images
        .par_iter()
        .map(|b| preprocess_image(b, max_pixels))
        .collect();
    results
        .into_iter()
        .enumerate()
        .map(|(i, r)| r.map_err(|e| (i, e)))
        .collect()
}

/// The 1000 ImageNet class names, in the order of the model's logits.
pub struct ImageLabels {
    names: Vec<String>,
}

impl ImageLabels {
    /// Load `model_dir/imagenet-classes/labels.txt`: exactly 1000 non-empty lines.
    pub fn load(model_dir: &Path) -> Result<Self, EmbedError> {
        let path = model_dir.join(IMAGE_LABELS_SUBDIR).join("labels.txt");
        if !path.is_file() {
            return Err(EmbedError::ModelMissing { path });
        }
        let text = std::fs::read_to_string(&path).map_err(|e| EmbedError::corrupt(&path, e))?;
        let names: Vec<String> = text.lines().map(str::to_string).collect();
        if names.len() != NUM_CLASSES || names.iter().any(|n| n.trim().is_empty()) {
            return Err(EmbedError::corrupt(
                &path,
                format!(
                    "expected {NUM_CLASSES} non-empty lines, found {} lines",
                    names.len()
                ),
            ));
        }
        Ok(ImageLabels { names })
    }

    /// The `k` most probable classes (softmax of the logits), most probable first.
    pub fn classify(&self, logits: &[f32], k: usize) -> Vec<(&str, f32)> {
        top_k(&softmax(logits), k)
            .into_iter()
            .filter_map(|(i, p)| Some((self.names.get(i)?.as_str(), p)))
            .collect()
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

/// What follows a convolution's matrix product: + bias, then ReLU6 or, for
/// a residual block's projection, + the block's input. One pass on the
/// current rayon pool: candle's own add and clamp would take three passes and
/// run on candle's private thread pool, which `retailml.threads` cannot size.
struct Epilogue {
    bias: Vec<f32>,
    relu6: bool,
}

/// Rows of an epilogue per task: large enough to amortise the task, small
/// enough to spread a 7x7 map over the threads.
const EPILOGUE_CHUNK_ROWS: usize = 64;

impl Epilogue {
    fn run(
        &self,
        y: &CpuStorage,
        y_layout: &Layout,
        skip: Option<(&CpuStorage, &Layout)>,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let y = contiguous_f32(y, y_layout)?;
        let c = self.bias.len();
        if y_layout.shape().dims().last() != Some(&c) {
            candle_core::bail!("epilogue: {:?} for {c} channels", y_layout.shape())
        }
        let skip = match skip {
            Some((s, l)) if l.shape() == y_layout.shape() => Some(contiguous_f32(s, l)?),
            Some((_, l)) => candle_core::bail!(
                "residual of shape {:?}, output {:?}",
                l.shape(),
                y_layout.shape()
            ),
            None => None,
        };
        let mut out = vec![0f32; y.len()];
        let chunk = EPILOGUE_CHUNK_ROWS * c;
        out.par_chunks_mut(chunk).enumerate().for_each(|(i, out)| {
            let y = &y[i * chunk..i * chunk + out.len()];
            for (o_row, y_row) in out.chunks_exact_mut(c).zip(y.chunks_exact(c)) {
                for ((o, &v), &b) in o_row.iter_mut().zip(y_row).zip(&self.bias) {
                    *o = v + b;
                }
            }
            if self.relu6 {
                for o in out.iter_mut() {
                    *o = o.clamp(0.0, 6.0);
                }
            }
            if let Some(skip) = skip {
                for (o, &x) in out.iter_mut().zip(&skip[i * chunk..]) {
                    *o += x;
                }
            }
        });
        Ok((CpuStorage::F32(out), y_layout.shape().clone()))
    }
}

fn contiguous_f32<'a>(storage: &'a CpuStorage, layout: &Layout) -> candle_core::Result<&'a [f32]> {
    let CpuStorage::F32(data) = storage else {
        candle_core::bail!("expected f32 values")
    };
    let Some((start, end)) = layout.contiguous_offsets() else {
        candle_core::bail!("expected contiguous values")
    };
    Ok(&data[start..end])
}

impl CustomOp1 for Epilogue {
    fn name(&self) -> &'static str {
        "bias-relu6"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        self.run(s, l, None)
    }
}

impl candle_core::CustomOp2 for Epilogue {
    fn name(&self) -> &'static str {
        "bias-residual"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        self.run(s1, l1, Some((s2, l2)))
    }
}

/// features.0: 3x3 stride-2 conv 3 -> 32, BN, ReLU6, as patches x weights:
/// the CHW image is unfolded into one 27-value patch per output pixel, which
/// yields the HWC map directly.
struct Stem {
    weight: Tensor, // (27, 32), rows in (channel, ky, kx) order
    epilogue: Epilogue,
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
            epilogue: Epilogue { bias, relu6: true },
        })
    }

    fn forward(&self, inputs: &[Vec<f32>]) -> candle_core::Result<Tensor> {
        let n = INPUT_SIZE;
        let per_image = STEM_OUT * STEM_OUT * 27;
        let mut patches = vec![0f32; inputs.len() * per_image];
        patches
            .par_chunks_mut(per_image)
            .zip(inputs)
            .for_each(|(image_patches, chw)| {
                for (o, patch) in image_patches.chunks_exact_mut(27).enumerate() {
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
            });
        let rows = inputs.len() * STEM_OUT * STEM_OUT;
        let patches = Tensor::from_vec(patches, (rows, 27), &Device::Cpu)?;
        let y = patches
            .matmul(&self.weight)?
            .apply_op1_no_bwd(&self.epilogue)?;
        y.reshape((inputs.len(), STEM_OUT, STEM_OUT, STEM_CHANNELS))
    }
}

/// 1x1 conv + BN (+ ReLU6) as one matrix product over the (N*H*W, C) maps.
struct Pointwise {
    weight: Tensor, // (c_in, c_out)
    epilogue: Epilogue,
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
            epilogue: Epilogue { bias, relu6 },
        })
    }

    /// The convolution of `x`, plus `skip` (a residual connection) when given.
    fn forward(&self, x: &Tensor, skip: Option<&Tensor>) -> candle_core::Result<Tensor> {
        let (n, h, w, c) = x.dims4()?;
        let y = x.reshape((n * h * w, c))?.matmul(&self.weight)?;
        let y = match skip {
            Some(skip) => y.apply_op2_no_bwd(&skip.reshape((n * h * w, ()))?, &self.epilogue)?,
            None => y.apply_op1_no_bwd(&self.epilogue)?,
        };
        y.reshape((n, h, w, ()))
    }
}

/// 3x3 depthwise conv (padding 1) + folded BN + ReLU6 on (N, H, W, C) maps.
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
        let (n, h, w, c) = layout.shape().dims4()?;
        if c != self.bias.len() {
            candle_core::bail!(
                "depthwise conv: {c} channels in, weights for {}",
                self.bias.len()
            )
        }
        let s = self.stride;
        let (ho, wo) = ((h - 1) / s + 1, (w - 1) / s + 1);
        let x = &data[start..end];
        let mut out = vec![0f32; n * ho * wo * c];
        // one output row per task: enough of them to share across threads
        out.par_chunks_mut(wo * c)
            .enumerate()
            .for_each(|(row, out_row)| {
                let (image, oy) = (row / ho, row % ho);
                let x = &x[image * h * w * c..(image + 1) * h * w * c];
                for (ox, acc) in out_row.chunks_exact_mut(c).enumerate() {
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
            });
        Ok((CpuStorage::F32(out), Shape::from((n, ho, wo, c))))
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
            Some(e) => e.forward(x, None)?,
            None => x.clone(),
        };
        let h = h.contiguous()?.apply_op1_no_bwd(&self.depthwise)?;
        self.project.forward(&h, self.residual.then_some(x))
    }
}
