//! `neo4j._rust.codec.packstream.Structure`: a PackStream structure as the driver sees it.

use pyo3::basic::CompareOp;
use pyo3::exceptions::{PyIndexError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PySlice, PyTuple};
use pyo3::{PyTraverseError, PyVisit};

/// A structure: a tag byte and its fields (the unpacker gives them to the hydration hooks, the
/// dehydration hooks build them for the packer).
///
/// Behaves like the driver's pure-Python `Structure`: `Structure(b"X", *fields)`, `.tag`
/// (`bytes`), `.fields` (a list), `len`, indexing and assignment by position (negative indices
/// and slices too), `==`/`!=` (`NotImplemented` against other types), an `eval`-able repr, no
/// hash. Unlike the pure-Python class, a tag that is not one byte is refused when the structure
/// is made (`ValueError`) instead of when it is packed.
#[pyclass(module = "neo4j._rust.codec.packstream", name = "Structure")]
pub(crate) struct Structure {
    pub(crate) tag: u8,
    pub(crate) fields: Vec<Py<PyAny>>,
}

impl Structure {
    /// The position `index` refers to (negative counts from the end), if it is in range.
    fn position(&self, index: isize) -> PyResult<usize> {
        let len = self.fields.len();
        let position = if index < 0 {
            len.checked_sub(index.unsigned_abs())
        } else {
            Some(index.unsigned_abs()).filter(|&i| i < len)
        };
        position.ok_or_else(|| PyIndexError::new_err("Structure field index out of range"))
    }

    fn fields_list<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.fields.iter().map(|field| field.bind(py)))
    }
}

#[pymethods]
impl Structure {
    #[new]
    #[pyo3(signature = (tag, *fields))]
    fn new(tag: &Bound<'_, PyAny>, fields: &Bound<'_, PyTuple>) -> PyResult<Self> {
        let tag = match tag.cast::<PyBytes>() {
            Ok(bytes) => match bytes.as_bytes() {
                &[tag] => tag,
                _ => return Err(bad_tag()),
            },
            Err(_) => return Err(bad_tag()),
        };
        let fields = fields.iter().map(Bound::unbind).collect();
        Ok(Structure { tag, fields })
    }

    /// The tag, as a one-byte `bytes`.
    #[getter]
    fn tag<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &[self.tag])
    }

    /// The fields, as a new list.
    #[getter]
    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.fields_list(py)
    }

    fn __len__(&self) -> usize {
        self.fields.len()
    }

    fn __getitem__<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if key.is_instance_of::<PySlice>() {
            return self.fields_list(py)?.as_any().get_item(key);
        }
        let index: isize = key.extract()?;
        Ok(self.fields[self.position(index)?].bind(py).clone())
    }

    fn __setitem__(&mut self, key: &Bound<'_, PyAny>, value: Bound<'_, PyAny>) -> PyResult<()> {
        if key.is_instance_of::<PySlice>() {
            let list = self.fields_list(key.py())?;
            list.as_any().set_item(key, value)?;
            self.fields = list.iter().map(Bound::unbind).collect();
            return Ok(());
        }
        let index: isize = key.extract()?;
        let position = self.position(index)?;
        self.fields[position] = value.unbind();
        Ok(())
    }

    fn __richcmp__(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        op: CompareOp,
    ) -> PyResult<Py<PyAny>> {
        let Ok(other) = other.cast::<Structure>() else {
            return Ok(py.NotImplemented());
        };
        let equal = match op {
            CompareOp::Eq | CompareOp::Ne => {
                let other = other.try_borrow()?;
                // List equality, as the pure-Python class compares `fields` lists (identity first).
                self.tag == other.tag && self.fields_list(py)?.as_any().eq(other.fields_list(py)?)?
            }
            _ => return Ok(py.NotImplemented()),
        };
        let result = if matches!(op, CompareOp::Eq) {
            equal
        } else {
            !equal
        };
        Ok(pyo3::types::PyBool::new(py, result)
            .to_owned()
            .into_any()
            .unbind())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let mut repr = format!("Structure({}", PyBytes::new(py, &[self.tag]).repr()?);
        for field in &self.fields {
            repr.push_str(", ");
            repr.push_str(field.bind(py).repr()?.to_str()?);
        }
        repr.push(')');
        Ok(repr)
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        for field in &self.fields {
            visit.call(field)?;
        }
        Ok(())
    }

    fn __clear__(&mut self) {
        self.fields.clear();
    }
}

fn bad_tag() -> PyErr {
    PyValueError::new_err("Structure tag must be a single byte (bytes of length 1)")
}
