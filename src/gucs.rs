//! Every setting of the extension, registered once in `_PG_init`.

use std::ffi::{CStr, CString};
use std::path::PathBuf;

use pgrx::{pg_sys, GucContext, GucFlags, GucRegistry, GucSetting};

/// `retailml.model_dir`: the directory holding the installed model files.
/// Superuser-only, because it decides which files the server reads. Empty
/// means `$(pg_config --sharedir)/retailml/models`, where `make models`
/// installs them. It selects where the pinned models live, never which model
/// answers: a different model is always an explicit function argument.
static MODEL_DIR: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);

pub fn init() {
    GucRegistry::define_string_guc(
        c"retailml.model_dir",
        c"Directory with the installed retailml model files.",
        c"Empty means the retailml/models directory under the server's share directory.",
        &MODEL_DIR,
        GucContext::Suset,
        GucFlags::default(),
    );
}

pub fn model_dir() -> PathBuf {
    match MODEL_DIR.get() {
        Some(dir) if !dir.as_bytes().is_empty() => PathBuf::from(dir.to_string_lossy().into_owned()),
        _ => share_dir().join("retailml").join("models"),
    }
}

fn share_dir() -> PathBuf {
    let mut buf = [0 as std::ffi::c_char; pg_sys::MAXPGPATH as usize];
    // SAFETY: my_exec_path is set by the postmaster before any backend runs
    // our code, and get_share_path writes at most MAXPGPATH bytes.
    unsafe {
        pg_sys::get_share_path(std::ptr::addr_of!(pg_sys::my_exec_path).cast(), buf.as_mut_ptr());
        PathBuf::from(CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned())
    }
}
