//! Every setting of the extension, registered once in `_PG_init`.

use std::ffi::{CStr, CString};
use std::path::PathBuf;

use pgrx::{pg_sys, GucContext, GucFlags, GucRegistry, GucSetting};
use retailml_embed::DEFAULT_MAX_IMAGE_PIXELS;

/// `retailml.model_dir`: the directory holding the installed model files.
/// Superuser-only, because it decides which files the server reads. Empty
/// means `$(pg_config --sharedir)/retailml/models`, where `make models`
/// installs them. It selects where the pinned models live, never which model
/// answers: a different model is always an explicit function argument.
static MODEL_DIR: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);

/// `retailml.threads`: how many threads one backend uses for text model
/// inference. 0 (the default) means every core in an ordinary backend and
/// one in a parallel worker: a parallel scan already runs one process per
/// core, and more threads than cores only adds switching.
static THREADS: GucSetting<i32> = GucSetting::<i32>::new(0);

/// The most threads `retailml.threads` accepts.
const MAX_THREADS: i32 = 256;

/// `retailml.max_image_pixels`: the largest width x height an image function
/// decodes, checked from the file header before any pixel memory is taken.
/// The default, 64 megapixels, is above every common camera sensor; decoding
/// one costs up to about 800 MB at peak. Superuser-only, since it bounds how much
/// memory one call may take. It decides only whether an image is refused
/// (54000), never what an accepted image embeds to.
static MAX_IMAGE_PIXELS: GucSetting<i32> = GucSetting::<i32>::new(DEFAULT_MAX_IMAGE_PIXELS as i32);

/// The most `retailml.max_image_pixels` accepts: 1 gigapixel (4 GB of RGBA).
const MAX_IMAGE_PIXELS_LIMIT: i32 = 1 << 30;

pub fn init() {
    GucRegistry::define_string_guc(
        c"retailml.model_dir",
        c"Directory with the installed retailml model files.",
        c"Empty means the retailml/models directory under the server's share directory.",
        &MODEL_DIR,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"retailml.threads",
        c"Threads one backend uses for the models and the forecasts.",
        c"0 means every core, or one inside a parallel worker.",
        &THREADS,
        0,
        MAX_THREADS,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"retailml.max_image_pixels",
        c"Largest width x height, in pixels, that the image functions decode.",
        c"Checked from the file header before decoding; larger images are refused with SQLSTATE 54000.",
        &MAX_IMAGE_PIXELS,
        1,
        MAX_IMAGE_PIXELS_LIMIT,
        GucContext::Suset,
        GucFlags::default(),
    );
}

pub fn max_image_pixels() -> u64 {
    MAX_IMAGE_PIXELS.get().max(1) as u64
}

pub fn pool_threads() -> usize {
    match THREADS.get() {
        n if n > 0 => n as usize,
        // SAFETY: a plain global that Postgres sets before running any of our code.
        _ if unsafe { pg_sys::ParallelWorkerNumber } >= 0 => 1,
        _ => std::thread::available_parallelism().map_or(1, |n| n.get()),
    }
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
