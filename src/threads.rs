//! The thread pool that model inference and forecasting run on, sized by
//! `retailml.threads`.
//!
//! Work given to [`run`] or [`interruptible`] executes on the pool's threads,
//! which never call into Postgres: raise errors and check for interrupts on
//! the backend's own thread, after they return.

use std::cell::RefCell;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

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
    pool().install(work)
}

/// Runs `work` on the pool while the backend's own thread waits for it,
/// checking for interrupts every 50 ms: one forecast of a long series takes
/// seconds in code that cannot check for interrupts itself, and cancel and
/// statement_timeout must still stop the statement within a second. `work`
/// gets a `stop` check to call between steps: once the backend has given up
/// waiting it unwinds the work, which then ends with nothing to report;
/// work that never calls it runs to its end in the background, its result
/// dropped.
pub fn interruptible<R: Send + 'static>(work: impl FnOnce(&dyn Fn()) -> R + Send + 'static) -> R {
    struct Abandon(Arc<AtomicBool>);
    impl Drop for Abandon {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    struct Abandoned;

    let abandon_on_exit = Abandon(Arc::new(AtomicBool::new(false)));
    let flag = Arc::clone(&abandon_on_exit.0);
    let (sender, receiver) = channel();
    pool().spawn(move || {
        let stop = || {
            if flag.load(Ordering::Relaxed) {
                // Not a panic: nothing to report, so no panic hook.
                resume_unwind(Box::new(Abandoned));
            }
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| work(&stop)));
        // The backend may have stopped waiting: then nobody wants the result.
        let _ = sender.send(outcome);
    });
    loop {
        match receiver.recv_timeout(Duration::from_millis(50)) {
            Ok(Ok(result)) => return result,
            // A panic in the work is one in the function, raised on the backend's thread.
            Ok(Err(panic)) => resume_unwind(panic),
            Err(RecvTimeoutError::Timeout) => {
                pgrx::check_for_interrupts!();
            }
            Err(RecvTimeoutError::Disconnected) => unreachable!("the pool dropped work it was given"),
        }
    }
}

fn pool() -> Rc<ThreadPool> {
    let threads = gucs::pool_threads();
    POOL.with(|slot| {
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
    })
}
