//! The shared async integration suite (written once in quiver-smol's `tests/shared`) on the
//! blocking runtime and executor that the sync API is built on.

#[macro_use]
#[path = "../../quiver-smol/tests/shared/mod.rs"]
mod shared;

shared_suite!(
    quiver_blocking::__private::BlockingRuntime,
    quiver_blocking::__private::block_on
);
