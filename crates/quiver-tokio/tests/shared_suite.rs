//! The shared integration suite (written once in quiver-smol's `tests/shared`) on tokio, against a
//! real Neo4j.

#[macro_use]
#[path = "../../quiver-smol/tests/shared/mod.rs"]
mod shared;

use std::future::Future;

/// Each shared test on its own multi-threaded tokio runtime.
fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(future)
}

shared_suite!(quiver_tokio::TokioRuntime, block_on);
