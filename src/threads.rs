//! The thread pool that model inference runs on, sized by `retailml.threads`.
//!
//! Work given to [`run`] executes on the pool's threads, which never call
//! into Postgres: raise errors and check for interrupts on the backend's own
//! thread, after `run` returns.

use std::cell::RefCell;
use std::rc::Rc;

use pgrx::PgSqlErrorCode::ERRCODE_INSUFFICIENT_RESOURCES;
use rayon::{ThreadPool, ThreadPoolBuilder};

use crate::error::raise;
use crate::gucs;

thread_local! {
    /// Kept for the backend's life and rebuilt when the setting changes:
    /// starting threads for every call would cost more than small inputs.
    static POOL: RefCell<Option<Rc<ThreadPool>>> = const { RefCell::new(None) };
}

pub fn run<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    let threads = gucs::inference_threads();
    let pool = POOL.with(|slot| {
        let mut slot = slot.borrow_mut();
        match &*slot {
            Some(pool) if pool.current_num_threads() == threads => Rc::clone(pool),
            _ => {
                // Drop the old pool first, so its threads end before new ones start.
                *slot = None;
                let pool = ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .thread_name(|i| format!("retailml-{i}"))
                    .build()
                    .unwrap_or_else(|e| {
                        raise(ERRCODE_INSUFFICIENT_RESOURCES, format!("could not start {threads} threads: {e}"), None)
                    });
                Rc::clone(slot.insert(Rc::new(pool)))
            }
        }
    });
    pool.install(work)
}
