//! The `retailml.models` view: the models this install knows, whether their
//! files are installed (with checksums) and whether this backend has loaded
//! them.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::SystemTime;

use pgrx::prelude::*;

use crate::{embed, gucs, image};

thread_local! {
    /// Checksums by file, valid while its size and modification time stay:
    /// hashing 100 MB of weights on every look at the view would be slow.
    static CHECKSUMS: RefCell<HashMap<PathBuf, (u64, SystemTime, String)>> = RefCell::new(HashMap::new());
}

fn checksum(path: &PathBuf) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    let (len, modified) = (meta.len(), meta.modified().ok()?);
    CHECKSUMS.with(|cache| {
        if let Some((l, m, sha)) = cache.borrow().get(path) {
            if *l == len && *m == modified {
                return Some(sha.clone());
            }
        }
        let sha = retailml_embed::sha256_file(path).ok()?;
        cache.borrow_mut().insert(path.clone(), (len, modified, sha.clone()));
        Some(sha)
    })
}

#[pg_schema]
mod retailml {
    use pgrx::prelude::*;

    /// One row per model; `file` and `sha256` are NULL when it is not installed.
    #[pg_extern(stable, parallel_safe)]
    fn installed_models() -> TableIterator<
        'static,
        (
            name!(name, String),
            name!(kind, String),
            name!(dimensions, i32),
            name!(languages, Vec<String>),
            name!(source, String),
            name!(licence, String),
            name!(file, Option<String>),
            name!(sha256, Option<String>),
            name!(loaded, bool),
        ),
    > {
        super::rows()
    }
}

#[allow(clippy::type_complexity)]
fn rows() -> TableIterator<
    'static,
    (String, String, i32, Vec<String>, String, String, Option<String>, Option<String>, bool),
> {
    let dir = gucs::model_dir();
    let loaded = [embed::loaded_models(), image::loaded_models()].concat();
    let rows: Vec<_> = retailml_embed::MODELS
        .iter()
        .map(|m| {
            let path = dir.join(m.name).join(m.file);
            let sha = checksum(&path);
            (
                m.name.to_string(),
                m.kind.to_string(),
                m.dimensions as i32,
                m.languages.iter().map(|l| l.to_string()).collect(),
                m.source.to_string(),
                m.licence.to_string(),
                sha.as_ref().map(|_| path.display().to_string()),
                sha,
                loaded.contains(&m.name),
            )
        })
        .collect();
    TableIterator::new(rows)
}

pgrx::extension_sql!(
    "CREATE VIEW retailml.models AS SELECT * FROM retailml.installed_models();\n\
     COMMENT ON VIEW retailml.models IS 'retailml models: installed files with sha256, loaded in this backend';",
    name = "models_view",
    requires = [retailml::installed_models]
);
