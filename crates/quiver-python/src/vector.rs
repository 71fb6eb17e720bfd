//! `neo4j._rust.vector.swap_endian`: the byte-order flip behind the driver's `Vector` type.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use pyo3::wrap_pyfunction;

pub(crate) fn add_functions(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(swap_endian, module)?)
}

/// `data` (a packed array of `type_size`-byte numbers) with each number's bytes reversed.
#[pyfunction]
fn swap_endian<'py>(
    py: Python<'py>,
    type_size: &Bound<'py, PyAny>,
    data: &Bound<'py, PyBytes>,
) -> PyResult<Bound<'py, PyBytes>> {
    let size = match type_size.extract::<usize>() {
        Ok(size @ (2 | 4 | 8)) => size,
        _ => {
            return Err(PyValueError::new_err(format!(
                "Unsupported type size: {}",
                type_size.repr()?
            )));
        }
    };
    let data = data.as_bytes();
    if data.len() % size != 0 {
        return Err(PyValueError::new_err(format!(
            "Data length {} is not a multiple of type size {size}",
            data.len()
        )));
    }
    PyBytes::new_with(py, data.len(), |out| {
        for (to, from) in out.chunks_exact_mut(size).zip(data.chunks_exact(size)) {
            to.copy_from_slice(from);
            to.reverse();
        }
        Ok(())
    })
}
