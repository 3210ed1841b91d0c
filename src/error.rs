//! Core errors become SQL errors with a real SQLSTATE. The cores only say
//! what went wrong; which SQLSTATE and hint that means lives here.

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::{PgLogLevel, PgSqlErrorCode};
use retailml_embed::EmbedError;
use retailml_forecast::ForecastError;
use retailml_report::ChartError;
use retailml_segment::SegmentError;

use PgSqlErrorCode::*;

const PLEASE_REPORT: &str = "this is a bug in retailml, please report it";
const INSTALL_MODELS: &str = "install the models with `make models` in the retailml checkout, \
                              or point retailml.model_dir at a directory that has them";

/// Raises an ERROR; never returns.
pub fn raise(code: PgSqlErrorCode, message: impl Into<String>, hint: Option<&str>) -> ! {
    let mut report = ErrorReport::new(code, message.into(), "retailml");
    if let Some(hint) = hint {
        report = report.set_hint(hint);
    }
    report.report(PgLogLevel::ERROR);
    unreachable!("ERROR report returned")
}

/// A core error that knows its SQLSTATE.
pub trait SqlError: std::fmt::Display {
    fn sqlstate(&self) -> PgSqlErrorCode;
    fn hint(&self) -> Option<&'static str> {
        (self.sqlstate() == ERRCODE_INTERNAL_ERROR).then_some(PLEASE_REPORT)
    }
}

impl SqlError for EmbedError {
    fn sqlstate(&self) -> PgSqlErrorCode {
        match self {
            EmbedError::ModelMissing { .. } | EmbedError::ModelCorrupt { .. } => ERRCODE_UNDEFINED_FILE,
            EmbedError::UndecodableImage(_) => ERRCODE_INVALID_BINARY_REPRESENTATION,
            EmbedError::UnsupportedFormat(_) => ERRCODE_FEATURE_NOT_SUPPORTED,
            EmbedError::ImageTooLarge { .. } => ERRCODE_PROGRAM_LIMIT_EXCEEDED,
            EmbedError::Internal(_) => ERRCODE_INTERNAL_ERROR,
        }
    }
    fn hint(&self) -> Option<&'static str> {
        match self {
            EmbedError::ModelMissing { .. } | EmbedError::ModelCorrupt { .. } => Some(INSTALL_MODELS),
            EmbedError::ImageTooLarge { .. } => Some(
                "a superuser can raise retailml.max_image_pixels; decoding takes up to about 12 bytes per pixel at peak",
            ),
            EmbedError::Internal(_) => Some(PLEASE_REPORT),
            _ => None,
        }
    }
}

impl SqlError for ForecastError {
    fn sqlstate(&self) -> PgSqlErrorCode {
        match self {
            ForecastError::InvalidParameter(_) | ForecastError::Irregular(_) => ERRCODE_INVALID_PARAMETER_VALUE,
            ForecastError::UnusableData(_) => ERRCODE_DATA_EXCEPTION,
            ForecastError::TooLong(_) => ERRCODE_PROGRAM_LIMIT_EXCEEDED,
            ForecastError::Internal(_) => ERRCODE_INTERNAL_ERROR,
        }
    }
    fn hint(&self) -> Option<&'static str> {
        match self {
            ForecastError::Irregular(_) => Some(retailml_forecast::dated::FREQUENCY_HINT),
            ForecastError::Internal(_) => Some(PLEASE_REPORT),
            _ => None,
        }
    }
}

impl SqlError for SegmentError {
    fn sqlstate(&self) -> PgSqlErrorCode {
        match self {
            SegmentError::InvalidParameter(_) => ERRCODE_INVALID_PARAMETER_VALUE,
            SegmentError::UnusableData(_) => ERRCODE_DATA_EXCEPTION,
            SegmentError::Internal(_) => ERRCODE_INTERNAL_ERROR,
        }
    }
}

impl SqlError for ChartError {
    fn sqlstate(&self) -> PgSqlErrorCode {
        match self {
            ChartError::InvalidParameter(_) => ERRCODE_INVALID_PARAMETER_VALUE,
            ChartError::TooLarge(_) => ERRCODE_PROGRAM_LIMIT_EXCEEDED,
            ChartError::Internal(_) => ERRCODE_INTERNAL_ERROR,
        }
    }
}

pub trait OrRaise<T> {
    /// The value, or an ERROR with the error's SQLSTATE.
    fn or_raise(self) -> T;
}

impl<T, E: SqlError> OrRaise<T> for Result<T, E> {
    fn or_raise(self) -> T {
        match self {
            Ok(value) => value,
            Err(err) => raise(err.sqlstate(), err.to_string(), err.hint()),
        }
    }
}
