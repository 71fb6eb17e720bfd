//! Quiver's cross-driver benchmark: `cargo xtask bench` builds and runs, each as its own process,
//! the same workloads through Quiver (tokio current-thread and multi-thread, smol, blocking) and
//! through the other drivers a user could pick instead — neo4rs and the `neo4j` crate, the
//! official Python (pure and with `neo4j-rust-ext`, sync and asyncio), Go, JavaScript and Java
//! drivers — and writes a results file and charts to `docs/bench/`.
//!
//! The programs live in one place: `src/bin/quiver-peer.rs` (Quiver), `peers/` (the other Rust
//! drivers, a Cargo workspace of its own), `python/`, `go/`, `js/` and `java/`; the harness is the
//! `quiver-bench` binary (`src/main.rs`), the charts `charts.py`. [`peer`] is the protocol every
//! peer speaks.
//!
//! `benches/throughput.rs` is the older single-process comparison of Quiver's runtime adapters
//! with a raw socket loop (`cargo bench -p quiver-bench --bench throughput`).

pub mod peer;
