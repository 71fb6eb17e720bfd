//! `pack(value, dehydration_hooks=None) -> bytes`: one Python value as PackStream, written with
//! Quiver's encoder, deciding each value's type in the order the driver's pure-Python packer does.

use pyo3::exceptions::{PyOverflowError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType,
};
use pyo3::{intern, wrap_pyfunction};
use quiver_packstream::EncodeError;
use quiver_packstream::encode;

use crate::check_depth;
use crate::structure::Structure;
use crate::unpack::{self, Version};

/// Adds `pack` and `unpack` for `version` to `module` (`…packstream.v1` or `…packstream.v2`).
pub(crate) fn add_functions(module: &Bound<'_, PyModule>, version: Version) -> PyResult<()> {
    match version {
        Version::V1 => {
            module.add_function(wrap_pyfunction!(pack_v1, module)?)?;
            module.add_function(wrap_pyfunction!(unpack_v1, module)?)?;
        }
        Version::V2 => {
            module.add_function(wrap_pyfunction!(pack_v2, module)?)?;
            module.add_function(wrap_pyfunction!(unpack_v2, module)?)?;
        }
    }
    Ok(())
}

/// Packs `value` as PackStream v1 (Bolt ≤ 6.0).
#[pyfunction]
#[pyo3(name = "pack", signature = (value, dehydration_hooks=None))]
fn pack_v1<'py>(
    value: &Bound<'py, PyAny>,
    dehydration_hooks: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyBytes>> {
    pack(Version::V1, value, dehydration_hooks)
}

/// Packs `value` as PackStream v2 (Bolt 6.1: v1 and UUIDs).
#[pyfunction]
#[pyo3(name = "pack", signature = (value, dehydration_hooks=None))]
fn pack_v2<'py>(
    value: &Bound<'py, PyAny>,
    dehydration_hooks: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyBytes>> {
    pack(Version::V2, value, dehydration_hooks)
}

/// Unpacks the PackStream v1 value at `idx` in `buf`; returns it and the index after it.
#[pyfunction]
#[pyo3(name = "unpack", signature = (buf, idx, hydration_hooks=None))]
fn unpack_v1<'py>(
    buf: &Bound<'py, PyAny>,
    idx: usize,
    hydration_hooks: Option<&Bound<'py, PyAny>>,
) -> PyResult<(Bound<'py, PyAny>, usize)> {
    unpack::unpack(Version::V1, buf, idx, hydration_hooks)
}

/// Unpacks the PackStream v2 value at `idx` in `buf`; returns it and the index after it.
#[pyfunction]
#[pyo3(name = "unpack", signature = (buf, idx, hydration_hooks=None))]
fn unpack_v2<'py>(
    buf: &Bound<'py, PyAny>,
    idx: usize,
    hydration_hooks: Option<&Bound<'py, PyAny>>,
) -> PyResult<(Bound<'py, PyAny>, usize)> {
    unpack::unpack(Version::V2, buf, idx, hydration_hooks)
}

/// The driver's type tables (`neo4j._codec._types`), which already list the numpy and pandas
/// types when those are installed: read once, on the first `pack`.
struct TypeTables {
    none_values: Vec<Py<PyAny>>,
    true_values: Vec<Py<PyAny>>,
    false_values: Vec<Py<PyAny>>,
    float_types: Py<PyAny>,
    int_types: Py<PyAny>,
    bytes_types: Py<PyAny>,
    sequence_types: Py<PyAny>,
    mapping_types: Py<PyAny>,
}

impl TypeTables {
    fn get(py: Python<'_>) -> PyResult<&'static TypeTables> {
        static TABLES: PyOnceLock<TypeTables> = PyOnceLock::new();
        TABLES.get_or_try_init(py, || {
            let module = py.import("neo4j._codec._types")?;
            let values = |name: &str| -> PyResult<Vec<Py<PyAny>>> {
                module
                    .getattr(name)?
                    .try_iter()?
                    .map(|value| value.map(Bound::unbind))
                    .collect()
            };
            let types = |name: &str| -> PyResult<Py<PyAny>> {
                // A tuple, as `isinstance` wants.
                let types = module.getattr(name)?;
                Ok(
                    PyTuple::new(py, types.try_iter()?.collect::<PyResult<Vec<_>>>()?)?
                        .into_any()
                        .unbind(),
                )
            };
            Ok(TypeTables {
                none_values: values("NONE_VALUES")?,
                true_values: values("TRUE_VALUES")?,
                false_values: values("FALSE_VALUES")?,
                float_types: types("FLOAT_TYPES")?,
                int_types: types("INT_TYPES")?,
                bytes_types: types("BYTES_TYPES")?,
                sequence_types: types("SEQUENCE_TYPES")?,
                mapping_types: types("MAPPING_TYPES")?,
            })
        })
    }
}

/// `uuid.UUID`.
pub(crate) fn uuid_class(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    static UUID: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    UUID.import(py, "uuid", "UUID")
}

fn pack<'py>(
    version: Version,
    value: &Bound<'py, PyAny>,
    dehydration_hooks: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let py = value.py();
    // The pure-Python packer consults hooks only when they are truthy.
    let hooks = match dehydration_hooks {
        Some(hooks) if hooks.is_truthy()? => Some(hooks),
        _ => None,
    };
    let mut encoder = Encoder {
        py,
        version,
        hooks,
        tables: TypeTables::get(py)?,
        buf: Vec::new(),
    };
    encoder.write(value, 0)?;
    Ok(PyBytes::new(py, &encoder.buf))
}

struct Encoder<'a, 'py> {
    py: Python<'py>,
    version: Version,
    hooks: Option<&'a Bound<'py, PyAny>>,
    tables: &'static TypeTables,
    buf: Vec<u8>,
}

impl<'py> Encoder<'_, 'py> {
    /// Writes one value. `depth` counts the containers (and hook results) around it.
    fn write(&mut self, value: &Bound<'py, PyAny>, depth: usize) -> PyResult<()> {
        // Exact built-in types first: each lands where the full order below would put it.
        if let Ok(s) = value.cast_exact::<PyString>() {
            self.write_str(s)
        } else if let Ok(i) = value.cast_exact::<PyInt>() {
            encode::write_int(&mut self.buf, i.extract()?);
            Ok(())
        } else if let Ok(f) = value.cast_exact::<PyFloat>() {
            encode::write_float(&mut self.buf, f.value());
            Ok(())
        } else if let Ok(list) = value.cast_exact::<PyList>() {
            self.write_list(list, depth)
        } else if let Ok(dict) = value.cast_exact::<PyDict>() {
            check_depth(depth)?;
            // A snapshot of the items: iterating the dict itself would panic if a hook changed it.
            let items = dict.items();
            self.write_map_entries(items.len(), items.iter(), depth)
        } else {
            self.write_any(value, depth)
        }
    }

    /// The pure-Python packer's order of checks.
    fn write_any(&mut self, value: &Bound<'py, PyAny>, depth: usize) -> PyResult<()> {
        let py = self.py;
        let tables = self.tables;
        if tables.none_values.iter().any(|none| value.is(none)) {
            encode::write_null(&mut self.buf);
        } else if tables.true_values.iter().any(|t| value.is(t)) {
            encode::write_bool(&mut self.buf, true);
        } else if tables.false_values.iter().any(|f| value.is(f)) {
            encode::write_bool(&mut self.buf, false);
        } else if value.is_instance(tables.float_types.bind(py))? {
            encode::write_float(&mut self.buf, value.extract()?);
        } else if value.is_instance(tables.int_types.bind(py))? {
            // `__index__`; out of the signed 64-bit range is an OverflowError, as in Python.
            encode::write_int(&mut self.buf, value.extract()?);
        } else if let Ok(s) = value.cast::<PyString>() {
            self.write_str(s)?;
        } else if let Ok(bytes) = value.cast::<PyBytes>() {
            self.write_bytes(bytes.as_bytes())?;
        } else if let Ok(array) = value.cast::<PyByteArray>() {
            self.write_bytes(&array.to_vec())?;
        } else if value.is_instance(tables.bytes_types.bind(py))? {
            let bytes = pyo3::buffer::PyBuffer::<u8>::get(value)?.to_vec(py)?;
            self.write_bytes(&bytes)?;
        } else if value.is_instance(tables.sequence_types.bind(py))? {
            check_depth(depth)?;
            encode::write_list_header(&mut self.buf, value.len()?).map_err(encode_error)?;
            for item in value.try_iter()? {
                self.write(&item?, depth + 1)?;
            }
        } else if value.is_instance(tables.mapping_types.bind(py))? {
            check_depth(depth)?;
            let len = value.call_method0(intern!(py, "keys"))?.len()?;
            let items = value.call_method0(intern!(py, "items"))?;
            self.write_map_entries(len, items.try_iter()?, depth)?;
        } else if self.version == Version::V2 && value.is_instance(uuid_class(py)?)? {
            let uuid: u128 = value.getattr(intern!(py, "int"))?.extract()?;
            self.buf.push(0xE0);
            self.buf.extend_from_slice(&uuid.to_be_bytes());
        } else if let Ok(structure) = value.cast::<Structure>() {
            check_depth(depth)?;
            // The fields are copied out first: a hook run while packing them may change the
            // structure, which must not find it borrowed.
            let (tag, fields) = {
                let structure = structure.try_borrow()?;
                let fields: Vec<Py<PyAny>> =
                    structure.fields.iter().map(|f| f.clone_ref(py)).collect();
                (structure.tag, fields)
            };
            encode::write_struct_header(&mut self.buf, tag, fields.len()).map_err(encode_error)?;
            for field in &fields {
                self.write(field.bind(py), depth + 1)?;
            }
        } else if let Some(transformed) = self.dehydrate(value)? {
            check_depth(depth)?;
            self.write(&transformed, depth + 1)?;
        } else {
            let needs = if self.version == Version::V1 && value.is_instance(uuid_class(py)?)? {
                " (requires Bolt protocol version 6.1 or newer)"
            } else {
                ""
            };
            return Err(PyValueError::new_err(format!(
                "Values of type {} are not supported{needs}",
                value.get_type().str()?
            )));
        }
        Ok(())
    }

    /// What the dehydration hooks turn `value` into, if they know its type.
    fn dehydrate(&self, value: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let Some(hooks) = self.hooks else {
            return Ok(None);
        };
        let transformer = hooks.call_method1(intern!(self.py, "get_transformer"), (value,))?;
        if transformer.is_none() {
            return Ok(None);
        }
        transformer.call1((value,)).map(Some)
    }

    fn write_str(&mut self, s: &Bound<'py, PyString>) -> PyResult<()> {
        // UTF-8 without copying; a lone surrogate raises UnicodeEncodeError, as in Python.
        encode::write_str(&mut self.buf, s.to_str()?).map_err(encode_error)
    }

    fn write_bytes(&mut self, bytes: &[u8]) -> PyResult<()> {
        encode::write_bytes(&mut self.buf, bytes).map_err(encode_error)
    }

    fn write_list(&mut self, list: &Bound<'py, PyList>, depth: usize) -> PyResult<()> {
        check_depth(depth)?;
        encode::write_list_header(&mut self.buf, list.len()).map_err(encode_error)?;
        for item in list.iter() {
            self.write(&item, depth + 1)?;
        }
        Ok(())
    }

    /// A map of `len` entries from `(key, value)` pairs; keys must be strings.
    fn write_map_entries<I>(&mut self, len: usize, items: I, depth: usize) -> PyResult<()>
    where
        I: Iterator,
        I::Item: IntoItem<'py>,
    {
        encode::write_map_header(&mut self.buf, len).map_err(encode_error)?;
        for item in items {
            let (key, value): (Bound<'py, PyAny>, Bound<'py, PyAny>) =
                item.into_item()?.extract()?;
            let Ok(key) = key.cast::<PyString>() else {
                return Err(PyTypeError::new_err(format!(
                    "Map keys must be strings, not {}",
                    key.get_type().str()?
                )));
            };
            self.write_str(key)?;
            self.write(&value, depth + 1)?;
        }
        Ok(())
    }
}

/// An item of a Python iterator (`PyResult`) or of a list snapshot (plain).
trait IntoItem<'py> {
    fn into_item(self) -> PyResult<Bound<'py, PyAny>>;
}

impl<'py> IntoItem<'py> for Bound<'py, PyAny> {
    fn into_item(self) -> PyResult<Bound<'py, PyAny>> {
        Ok(self)
    }
}

impl<'py> IntoItem<'py> for PyResult<Bound<'py, PyAny>> {
    fn into_item(self) -> PyResult<Bound<'py, PyAny>> {
        self
    }
}

/// Sizes PackStream cannot express are OverflowErrors, as in the pure-Python packer.
fn encode_error(error: EncodeError) -> PyErr {
    PyOverflowError::new_err(error.to_string())
}
