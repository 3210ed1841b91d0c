//! retailml: the pgrx glue. Every SQL function here is a thin wrapper over a
//! pure crate under `crates/`; this layer only converts arguments, maps
//! errors to SQLSTATEs and talks to Postgres (SPI, GUCs, interrupts).

use pgrx::prelude::*;

mod embed;
mod error;
mod forecast;
mod forecast_explain;
mod forecast_table;
mod gucs;
mod image;
mod jobs;
mod model_cache;
mod models;
mod relation;
mod report;
mod rfm;
mod segment;
mod segment_models;
mod threads;
mod vector;

::pgrx::pg_module_magic!(name, version);

// Text arguments reach Rust as UTF-8; in a database of another encoding they
// would fail on the first non-ASCII review, so refuse at CREATE EXTENSION.
pgrx::extension_sql!(
    r#"
DO $$
BEGIN
  IF getdatabaseencoding() <> 'UTF8' THEN
    RAISE EXCEPTION 'retailml needs a UTF8 database, this one is %', getdatabaseencoding()
      USING ERRCODE = 'feature_not_supported',
            HINT = 'create the database with ENCODING ''UTF8'' (TEMPLATE template0)';
  END IF;
END
$$;
"#,
    name = "require_utf8",
    bootstrap
);

#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    gucs::init();
}

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    #[must_use]
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}
