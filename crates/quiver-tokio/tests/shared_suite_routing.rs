//! The shared integration suite (written once in quiver-smol's `tests/shared`) on tokio through
//! routing: `neo4j://` (or `neo4j+s://`) in place of `NEO4J_URI`'s `bolt://`, against a real
//! Neo4j that answers ROUTE with itself.

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

shared_suite!(routing quiver_tokio::TokioRuntime, block_on);
