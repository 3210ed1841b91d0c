//! MobileNetV2 and its preprocessing against torchvision's reference outputs.

mod common;

use std::time::Instant;

use common::{argmax, cosine, f32s, jsonl, model_dir, norm, read_data};
use retailml_embed::{preprocess_image, ImageEncoder, DEFAULT_MAX_IMAGE_PIXELS, INPUT_SIZE};

/// Per-channel mean and population std of a CHW 3x224x224 tensor.
fn channel_stats(x: &[f32]) -> [(f64, f64); 3] {
    let plane = INPUT_SIZE * INPUT_SIZE;
    std::array::from_fn(|c| {
        let p = &x[c * plane..(c + 1) * plane];
        let mean = p.iter().map(|&v| f64::from(v)).sum::<f64>() / plane as f64;
        let var = p
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / plane as f64;
        (mean, var.sqrt())
    })
}

#[test]
fn preprocessing_matches_reference_statistics() {
    for row in jsonl("mobilenet_v2.jsonl") {
        let file = row["file"].as_str().unwrap();
        let input = preprocess_image(
            &read_data(&format!("images/{file}")),
            DEFAULT_MAX_IMAGE_PIXELS,
        )
        .unwrap();
        assert_eq!(input.len(), 3 * INPUT_SIZE * INPUT_SIZE);
        let (want_mean, want_std) = (
            f32s(&row["input_mean_per_channel"]),
            f32s(&row["input_std_per_channel"]),
        );
        // PNG decoding is exact and JPEG goes through libjpeg-turbo as in
        // Pillow, so the resize port must reproduce Pillow's pixels; the
        // image crate's zune-jpeg (a unit or two off on 10-20% of values)
        // shifted JPEG means by up to 7e-3
        let tol = 1e-5;
        for (c, (mean, std)) in channel_stats(&input).into_iter().enumerate() {
            let (dm, ds) = (
                (mean - f64::from(want_mean[c])).abs(),
                (std - f64::from(want_std[c])).abs(),
            );
            println!("{file} channel {c}: |d mean| {dm:.2e} |d std| {ds:.2e}");
            assert!(
                dm < tol && ds < tol,
                "{file} channel {c}: mean {mean} vs {}, std {std} vs {}",
                want_mean[c],
                want_std[c]
            );
        }
    }
}

#[test]
fn features_and_classes_match_reference() {
    let enc = ImageEncoder::load(&model_dir()).expect("load");
    let rows = jsonl("mobilenet_v2.jsonl");
    let images: Vec<(String, Vec<u8>)> = rows
        .iter()
        .map(|r| {
            let file = r["file"].as_str().unwrap().to_string();
            let bytes = read_data(&format!("images/{file}"));
            (file, bytes)
        })
        .collect();

    let (mut min_cos, mut top1) = (1.0f64, 0);
    let start = Instant::now();
    let outputs: Vec<_> = images
        .iter()
        .map(|(_, b)| enc.embed(b, DEFAULT_MAX_IMAGE_PIXELS).expect("embed"))
        .collect();
    let secs = start.elapsed().as_secs_f64();

    for ((row, (file, _)), out) in rows.iter().zip(&images).zip(&outputs) {
        assert_eq!(out.features.len(), 1280);
        assert_eq!(out.logits.len(), 1000);
        assert!((norm(&out.features) - 1.0).abs() < 1e-5);
        let c = cosine(&out.features, &f32s(&row["features"]));
        let want_top1 = row["top5"][0][0].as_u64().unwrap() as usize;
        let got_top1 = argmax(&out.logits);
        let logit_cos = cosine(&out.logits, &f32s(&row["logits"]));
        println!(
            "{file}: feature cosine 1 - {:.1e}, logit cosine 1 - {:.1e}, top-1 {got_top1} (want {want_top1})",
            1.0 - c,
            1.0 - logit_cos
        );
        assert!(c >= 0.999, "{file}: feature cosine {c}");
        // the decoded pixels are Pillow's, so only float rounding separates
        // us from torch (zune-jpeg's JPEG pixels gave 1 - 1.7e-4)
        assert!(
            c > 0.99999 && logit_cos > 0.99999,
            "{file}: cosine {c}, logits {logit_cos}"
        );
        assert_eq!(got_top1, want_top1, "{file}: top-1 class");
        min_cos = min_cos.min(c);
        top1 += 1;
    }
    println!(
        "image: min feature cosine {min_cos:.6} (1 - {:.1e}), top-1 {top1}/{}, {:.1} images/s",
        1.0 - min_cos,
        rows.len(),
        rows.len() as f64 / secs
    );
}
