//! The shared async integration suite (written once in quiver-smol's `tests/shared`) on the
//! blocking runtime through routing: `neo4j://` (or `neo4j+s://`) in place of `NEO4J_URI`'s
//! `bolt://`, against a real Neo4j that answers ROUTE with itself.

#[macro_use]
#[path = "../../quiver-smol/tests/shared/mod.rs"]
mod shared;

shared_suite!(
    routing quiver_blocking::__private::BlockingRuntime,
    quiver_blocking::__private::block_on
);
