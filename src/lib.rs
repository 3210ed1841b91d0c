//! retailml: the pgrx glue. Every SQL function here is a thin wrapper over a
//! pure crate under `crates/`; this layer only converts arguments, maps
//! errors to SQLSTATEs and talks to Postgres (SPI, GUCs, interrupts).

use pgrx::prelude::*;

mod embed;
mod error;
mod forecast;
mod gucs;
mod segment;

::pgrx::pg_module_magic!(name, version);

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
