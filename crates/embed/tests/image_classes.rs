//! ImageNet class names and probabilities against torchvision's top-5, and
//! the batch path against one image at a time.

mod common;

use std::path::PathBuf;

use common::{cosine, jsonl, model_dir, read_data};
use retailml_embed::{
    preprocess_images, EmbedError, ImageEncoder, ImageLabels, DEFAULT_MAX_IMAGE_PIXELS,
    IMAGE_LABELS_SUBDIR,
};

fn reference_images() -> Vec<(serde_json::Value, Vec<u8>)> {
    jsonl("mobilenet_v2.jsonl")
        .into_iter()
        .map(|row| {
            let bytes = read_data(&format!("images/{}", row["file"].as_str().unwrap()));
            (row, bytes)
        })
        .collect()
}

#[test]
fn top5_matches_torchvision_on_every_reference_image() {
    let dir = model_dir();
    let encoder = ImageEncoder::load(&dir).unwrap();
    let labels = ImageLabels::load(&dir).unwrap();
    // the installed names, by index, to read the reference's class indices
    let names: Vec<String> =
        std::fs::read_to_string(dir.join(IMAGE_LABELS_SUBDIR).join("labels.txt"))
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
    let rows = reference_images();
    assert_eq!(rows.len(), 7);
    for (row, bytes) in &rows {
        let file = row["file"].as_str().unwrap();
        let logits = encoder
            .embed(bytes, DEFAULT_MAX_IMAGE_PIXELS)
            .unwrap()
            .logits;
        let got = labels.classify(&logits, 5);
        let want = row["top5"].as_array().unwrap();
        assert_eq!(got.len(), 5);
        // PNG pixels are exact, so only float rounding moves a probability;
        // the JPEG decoder differs from libjpeg-turbo by a unit or two on some
        // pixels (see image_parity.rs), which moves them by up to about 0.01
        let tol = if file.ends_with(".png") { 1e-3 } else { 1.5e-2 };
        for (rank, ((label, p), w)) in got.iter().zip(want).enumerate() {
            let (index, want_p) = (w[0].as_u64().unwrap() as usize, w[1].as_f64().unwrap());
            println!(
                "{file} #{}: {label} {p:.4} (torchvision {} {want_p:.4})",
                rank + 1,
                names[index]
            );
            assert_eq!(*label, names[index], "{file}: class at rank {}", rank + 1);
            assert!(
                (f64::from(*p) - want_p).abs() < tol,
                "{file}: {label} {p} vs {want_p}"
            );
        }
    }
    // spot checks that the names are torchvision's, not another list's
    assert_eq!(names[950], "orange");
    assert_eq!(names[967], "espresso");
    assert_eq!(names[134], "crane bird");
    let all: f32 = labels
        .classify(
            &encoder
                .embed(&rows[0].1, DEFAULT_MAX_IMAGE_PIXELS)
                .unwrap()
                .logits,
            1000,
        )
        .iter()
        .map(|(_, p)| p)
        .sum();
    assert!((all - 1.0).abs() < 1e-4, "probabilities sum to {all}");
}

#[test]
fn batches_match_one_image_at_a_time_in_order() {
    let encoder = ImageEncoder::load(&model_dir()).unwrap();
    let rows = reference_images();
    let images: Vec<&[u8]> = rows.iter().map(|(_, b)| b.as_slice()).collect();
    let one_by_one: Vec<_> = images
        .iter()
        .map(|b| encoder.embed(b, DEFAULT_MAX_IMAGE_PIXELS).unwrap())
        .collect();
    let inputs = preprocess_images(&images, DEFAULT_MAX_IMAGE_PIXELS).unwrap();
    let batched = encoder.embed_preprocessed(&inputs).unwrap();
    assert_eq!(batched.len(), images.len());
    for ((single, batch), (row, _)) in one_by_one.iter().zip(&batched).zip(&rows) {
        let (c, lc) = (
            cosine(&single.features, &batch.features),
            cosine(&single.logits, &batch.logits),
        );
        assert!(
            c > 0.999999 && lc > 0.999999,
            "{}: cosine {c}, logits {lc}",
            row["file"]
        );
    }
    assert!(encoder.embed_preprocessed(&[]).unwrap().is_empty());
}

#[test]
fn a_bad_image_in_a_batch_is_reported_by_position() {
    let good = read_data("images/opencv_apple.jpg");
    let images: Vec<&[u8]> = vec![&good, &good, b"not an image", b""];
    match preprocess_images(&images, DEFAULT_MAX_IMAGE_PIXELS) {
        Err((index, e @ EmbedError::UndecodableImage(_))) => {
            assert_eq!(index, 2, "the first bad image, in input order");
            assert_eq!(e.sqlstate(), "22P03");
        }
        other => panic!(
            "expected an undecodable image at index 2, got {:?}",
            other.map(|v| v.len())
        ),
    }
    match preprocess_images(&[&good], 100) {
        Err((0, EmbedError::ImageTooLarge { .. })) => {}
        other => panic!("expected the pixel limit, got {:?}", other.map(|v| v.len())),
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("retailml-classes-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join(IMAGE_LABELS_SUBDIR)).unwrap();
    dir
}

#[test]
fn missing_or_short_labels_file_is_a_model_error() {
    let dir = scratch("labels");
    match ImageLabels::load(&dir) {
        Err(e @ EmbedError::ModelMissing { .. }) => assert_eq!(e.sqlstate(), "58P01"),
        other => panic!("expected ModelMissing, got {:?}", other.err()),
    }
    let file = dir.join(IMAGE_LABELS_SUBDIR).join("labels.txt");
    std::fs::write(&file, "tench\n".repeat(999)).unwrap();
    match ImageLabels::load(&dir) {
        Err(e @ EmbedError::ModelCorrupt { .. }) => {
            assert!(
                e.to_string()
                    .contains("expected 1000 non-empty lines, found 999"),
                "{e}"
            )
        }
        other => panic!("expected ModelCorrupt, got {:?}", other.err()),
    }
    std::fs::write(&file, format!("{}\n{}", "tench\n".repeat(998), "\n")).unwrap();
    assert!(matches!(
        ImageLabels::load(&dir),
        Err(EmbedError::ModelCorrupt { .. })
    ));
    std::fs::remove_dir_all(dir).unwrap();
}

/// The model's threads are the caller's rayon pool, which `retailml.threads`
/// sizes: candle's own pool (threads named candle-bp-N, sized by environment
/// variables only) must never start.
#[test]
fn the_model_starts_no_threads_of_candles_own() {
    let encoder = ImageEncoder::load(&model_dir()).unwrap();
    let rows = reference_images();
    let images: Vec<&[u8]> = rows.iter().take(4).map(|(_, b)| b.as_slice()).collect();
    let inputs = preprocess_images(&images, DEFAULT_MAX_IMAGE_PIXELS).unwrap();
    encoder.embed_preprocessed(&inputs).unwrap();
    let candle_threads: Vec<String> = std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("candle-bp"))
        .collect();
    assert!(
        candle_threads.is_empty(),
        "candle started {candle_threads:?}"
    );
}
