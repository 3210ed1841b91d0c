//! Missing and corrupt model files are errors with a path, never panics.

mod common;

use std::path::{Path, PathBuf};

use common::model_dir;
use retailml_embed::{
    EmbedError, ImageEncoder, TextEncoder, IMAGE_MODEL_SUBDIR, TEXT_MODEL_SUBDIR,
};

/// A fresh directory under the system temp dir, unique to this test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("retailml-embed-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Copy the real text model into `dir`, then let `damage` break one file.
fn text_model_copy(dir: &Path, damage: impl FnOnce(&Path)) {
    let src = model_dir().join(TEXT_MODEL_SUBDIR);
    let dst = dir.join(TEXT_MODEL_SUBDIR);
    std::fs::create_dir_all(&dst).unwrap();
    for f in ["config.json", "tokenizer.json", "model.safetensors"] {
        std::fs::copy(src.join(f), dst.join(f)).unwrap();
    }
    damage(&dst);
}

fn expect_corrupt<T>(result: Result<T, EmbedError>, file: &str) {
    match result {
        Err(EmbedError::ModelCorrupt { path, reason }) => {
            assert!(path.ends_with(file), "{} is not {file}", path.display());
            assert!(!reason.is_empty());
        }
        Err(e) => panic!("expected ModelCorrupt for {file}, got {e:?}"),
        Ok(_) => panic!("expected ModelCorrupt for {file}, got a model"),
    }
}

#[test]
fn missing_directory() {
    let dir = scratch("missing");
    match TextEncoder::load(&dir) {
        Err(e @ EmbedError::ModelMissing { .. }) => {
            assert_eq!(e.sqlstate(), "58P01");
            assert!(e.to_string().starts_with("model file \""), "{e}");
        }
        other => panic!("expected ModelMissing, got {:?}", other.err()),
    }
    match ImageEncoder::load(&dir) {
        Err(EmbedError::ModelMissing { path }) => {
            assert!(path.ends_with(Path::new(IMAGE_MODEL_SUBDIR).join("model.safetensors")))
        }
        other => panic!("expected ModelMissing, got {:?}", other.err()),
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn corrupt_text_model_files() {
    let dir = scratch("text-truncated");
    text_model_copy(&dir, |d| {
        let bytes = std::fs::read(d.join("model.safetensors")).unwrap();
        std::fs::write(d.join("model.safetensors"), &bytes[..bytes.len() / 2]).unwrap();
    });
    expect_corrupt(TextEncoder::load(&dir), "model.safetensors");

    text_model_copy(&dir, |d| {
        std::fs::write(d.join("tokenizer.json"), b"{\"not\": \"a tokenizer\"").unwrap()
    });
    expect_corrupt(TextEncoder::load(&dir), "tokenizer.json");

    text_model_copy(&dir, |d| {
        std::fs::write(d.join("config.json"), b"[]").unwrap()
    });
    expect_corrupt(TextEncoder::load(&dir), "config.json");

    text_model_copy(&dir, |d| {
        std::fs::write(d.join("model.safetensors"), b"").unwrap()
    });
    expect_corrupt(TextEncoder::load(&dir), "model.safetensors");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn corrupt_image_model_files() {
    let dir = scratch("image");
    let dst = dir.join(IMAGE_MODEL_SUBDIR);
    std::fs::create_dir_all(&dst).unwrap();
    let real = std::fs::read(
        model_dir()
            .join(IMAGE_MODEL_SUBDIR)
            .join("model.safetensors"),
    )
    .unwrap();

    std::fs::write(dst.join("model.safetensors"), &real[..real.len() - 1000]).unwrap();
    expect_corrupt(ImageEncoder::load(&dir), "model.safetensors");

    std::fs::write(dst.join("model.safetensors"), b"garbage").unwrap();
    expect_corrupt(ImageEncoder::load(&dir), "model.safetensors");

    // a valid safetensors file holding the wrong model
    let text = model_dir()
        .join(TEXT_MODEL_SUBDIR)
        .join("model.safetensors");
    std::fs::copy(text, dst.join("model.safetensors")).unwrap();
    expect_corrupt(ImageEncoder::load(&dir), "model.safetensors");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn error_messages_and_sqlstates() {
    let errors = [
        (
            EmbedError::ModelMissing {
                path: "/m/x".into(),
            },
            "58P01",
        ),
        (
            EmbedError::ModelCorrupt {
                path: "/m/x".into(),
                reason: "bad header".into(),
            },
            "58P01",
        ),
        (
            EmbedError::UndecodableImage("Truncated chunk.".into()),
            "22P03",
        ),
        (
            EmbedError::ImageTooLarge {
                width: 2,
                height: 3,
                max_pixels: 4,
            },
            "54000",
        ),
        (EmbedError::Internal("oops.\n".into()), "XX000"),
    ];
    for (e, state) in errors {
        let msg = e.to_string();
        assert_eq!(e.sqlstate(), state);
        assert!(msg.chars().next().unwrap().is_lowercase(), "{msg}");
        assert!(!msg.ends_with('.'), "{msg}");
    }
}
