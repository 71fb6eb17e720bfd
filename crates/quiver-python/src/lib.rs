//! Quiver's PackStream codec as the native codec module of the official Neo4j Python driver.
//!
//! The official driver (`neo4j` on PyPI, 6.x) looks for one optional native module,
//! `neo4j._rust`, inside its own package directory. When it imports, the driver encodes and
//! decodes with it instead of its pure-Python codec: Neo4j's own `neo4j-rust-ext` package is such a
//! module. This crate builds the same interface on [`quiver_packstream`]:
//!
//! * `neo4j._rust.codec.packstream.Structure`: the driver's PackStream structure (a tag byte and
//!   up to 15 fields), which its hydration code builds and its packer recognises;
//! * `neo4j._rust.codec.packstream.v1` and `.v2`: `pack(value, dehydration_hooks=None) -> bytes`
//!   and `unpack(buf, idx, hydration_hooks=None) -> (value, new_idx)` (v2 adds UUIDs, Bolt 6.1);
//! * `neo4j._rust.vector.swap_endian(type_size, data) -> bytes`, used by the driver's `Vector`.
//!
//! Decoding runs [`quiver_packstream::Decoder`]'s pull parser and builds Python objects straight
//! from its tokens (no intermediate value tree); encoding writes with [`quiver_packstream::encode`].
//! Malformed input raises the exception type the driver's pure-Python codec raises (`ValueError`,
//! `TypeError`, `OverflowError`, `UnicodeDecodeError`, `RecursionError`), never a Rust panic.
//!
//! The crate is built as a wheel with maturin (see the crate README); it has no Rust API.
#![warn(missing_docs)]

mod pack;
mod structure;
mod unpack;
mod vector;

use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The module's full dotted name inside the driver's package.
const ROOT: &str = "neo4j._rust";

/// Nesting limit of containers (and of dehydration hooks that return values needing hooks) for
/// both directions. The pure-Python codec runs into Python's recursion limit at about 500 nested
/// containers when decoding and about 1,000 when encoding; past this limit both raise
/// `RecursionError`, as the pure-Python codec does, instead of exhausting the native stack.
const MAX_DEPTH: usize = 1024;

/// `RecursionError` past [`MAX_DEPTH`]; `depth` counts the containers around a value.
fn check_depth(depth: usize) -> PyResult<()> {
    if depth >= MAX_DEPTH {
        return Err(pyo3::exceptions::PyRecursionError::new_err(format!(
            "PackStream values nested more than {MAX_DEPTH} deep"
        )));
    }
    Ok(())
}

/// `neo4j._rust`: the root module the driver imports submodules from.
///
/// Not declared free-threading safe (`gil_used = true`): nothing here is known to be unsafe
/// without the GIL, but no free-threaded interpreter was available to test it on.
#[pymodule(gil_used = true)]
#[pyo3(name = "_rust")]
fn init_module(root: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = root.py();
    let modules = py
        .import("sys")?
        .getattr("modules")?
        .cast_into::<PyDict>()?;

    let codec = submodule(root, &modules, "codec")?;
    let packstream = submodule(&codec, &modules, "packstream")?;
    packstream.add_class::<structure::Structure>()?;
    let v1 = submodule(&packstream, &modules, "v1")?;
    pack::add_functions(&v1, unpack::Version::V1)?;
    let v2 = submodule(&packstream, &modules, "v2")?;
    pack::add_functions(&v2, unpack::Version::V2)?;
    let vector = submodule(root, &modules, "vector")?;
    vector::add_functions(&vector)?;
    Ok(())
}

/// Creates `parent.name` and registers it in `sys.modules` under its dotted name, so that the
/// driver's `from neo4j._rust.codec.packstream.v1 import pack` finds it (Python imports
/// submodules of an extension module only through `sys.modules`).
fn submodule<'py>(
    parent: &Bound<'py, PyModule>,
    modules: &Bound<'py, PyDict>,
    name: &str,
) -> PyResult<Bound<'py, PyModule>> {
    let py = parent.py();
    let parent_name = parent.name()?;
    let parent_name = parent_name.to_str()?;
    // The root's `__name__` is `_rust` while it initialises; its full name is ROOT.
    let full_name = if parent_name == "_rust" || parent_name == ROOT {
        format!("{ROOT}.{name}")
    } else {
        format!("{parent_name}.{name}")
    };
    let module = PyModule::new(py, name)?;
    module.gil_used(true)?;
    module.setattr("__name__", &full_name)?;
    parent.setattr(name, &module)?;
    modules.set_item(&full_name, &module)?;
    Ok(module)
}
