//! The shared integration suite (`tests/shared`) on smol through routing: `neo4j://` (or
//! `neo4j+s://`) in place of `NEO4J_URI`'s `bolt://`, against a real Neo4j that answers ROUTE
//! with itself.

#[macro_use]
mod shared;

shared_suite!(routing quiver_smol::SmolRuntime, smol::block_on);
