use std::fmt;
use std::path::PathBuf;

/// Everything that can go wrong while loading a model or embedding an input.
///
/// `Display` gives a lowercase message without a trailing period, ready to be
/// an `errmsg`; [`EmbedError::sqlstate`] gives the SQLSTATE the glue reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmbedError {
    /// A model file does not exist (not installed yet).
    ModelMissing { path: PathBuf },
    /// A model file exists but cannot be parsed or lacks a tensor.
    ModelCorrupt { path: PathBuf, reason: String },
    /// The bytes are not an image we can decode: unknown format, garbage,
    /// truncated or an unsupported variant of a known format.
    UndecodableImage(String),
    /// A real image in a format no decoder here handles (AVIF, HEIF, ICO...),
    /// by the format's name.
    UnsupportedFormat(String),
    /// The image header announces more pixels than allowed.
    ImageTooLarge {
        width: u32,
        height: u32,
        max_pixels: u64,
    },
    /// A bug: an invariant of this crate did not hold.
    Internal(String),
}

impl EmbedError {
    /// The SQLSTATE this error should be reported with.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            EmbedError::ModelMissing { .. } | EmbedError::ModelCorrupt { .. } => "58P01",
            EmbedError::UndecodableImage(_) => "22P03",
            EmbedError::UnsupportedFormat(_) => "0A000",
            EmbedError::ImageTooLarge { .. } => "54000",
            EmbedError::Internal(_) => "XX000",
        }
    }

    pub(crate) fn corrupt(path: impl Into<PathBuf>, reason: impl fmt::Display) -> Self {
        EmbedError::ModelCorrupt {
            path: path.into(),
            reason: reason.to_string(),
        }
    }

    pub(crate) fn internal(what: impl fmt::Display) -> Self {
        EmbedError::Internal(what.to_string())
    }
}

impl fmt::Display for EmbedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmbedError::ModelMissing { path } => {
                write!(f, "model file \"{}\" is missing", path.display())
            }
            EmbedError::ModelCorrupt { path, reason } => {
                write!(
                    f,
                    "model file \"{}\" is corrupt: {}",
                    path.display(),
                    tidy(reason)
                )
            }
            EmbedError::UndecodableImage(reason) => {
                write!(f, "cannot decode image: {}", tidy(reason))
            }
            EmbedError::UnsupportedFormat(name) => write!(
                f,
                "image format {name} is not supported (retailml decodes {})",
                crate::image_prep::SUPPORTED
            ),
            EmbedError::ImageTooLarge {
                width,
                height,
                max_pixels,
            } => write!(
                f,
                "image of {width}x{height} pixels exceeds the limit of {max_pixels} pixels"
            ),
            EmbedError::Internal(what) => {
                write!(f, "internal error in retailml-embed: {}", tidy(what))
            }
        }
    }
}

impl std::error::Error for EmbedError {}

/// Library messages sometimes end in a period; ours never do.
fn tidy(reason: &str) -> &str {
    reason.trim_end_matches(|c: char| c == '.' || c.is_whitespace())
}
