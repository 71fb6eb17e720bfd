//! Bolt 6.0 values: [`Vector`] and [`Unsupported`].

use quiver_packstream::PackStr;

use super::{Map, Value};

/// A typed vector (structure `56`, Bolt 6.0+): a homogeneous array of numbers, sent as one
/// element-type marker byte and one big-endian byte string.
///
/// | variant | marker | element |
/// |---|---|---|
/// | `I8` | `C8` | 8-bit signed integer |
/// | `I16` | `C9` | 16-bit signed integer |
/// | `I32` | `CA` | 32-bit signed integer |
/// | `I64` | `CB` | 64-bit signed integer |
/// | `F32` | `C6` | IEEE-754 single |
/// | `F64` | `C1` | IEEE-754 double |
#[derive(Debug, Clone, PartialEq)]
pub enum Vector {
    /// 8-bit signed integers.
    I8(Vec<i8>),
    /// 16-bit signed integers.
    I16(Vec<i16>),
    /// 32-bit signed integers.
    I32(Vec<i32>),
    /// 64-bit signed integers.
    I64(Vec<i64>),
    /// 32-bit floats.
    F32(Vec<f32>),
    /// 64-bit floats.
    F64(Vec<f64>),
}

impl Vector {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            Vector::I8(v) => v.len(),
            Vector::I16(v) => v.len(),
            Vector::I32(v) => v.len(),
            Vector::I64(v) => v.len(),
            Vector::F32(v) => v.len(),
            Vector::F64(v) => v.len(),
        }
    }

    /// Whether the vector has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The element type's name as Cypher spells it (`INTEGER8` … `FLOAT64`).
    pub fn element_type_name(&self) -> &'static str {
        match self {
            Vector::I8(_) => "INTEGER8",
            Vector::I16(_) => "INTEGER16",
            Vector::I32(_) => "INTEGER32",
            Vector::I64(_) => "INTEGER64",
            Vector::F32(_) => "FLOAT32",
            Vector::F64(_) => "FLOAT64",
        }
    }

    /// The wire marker byte of the element type.
    pub fn type_marker(&self) -> u8 {
        match self {
            Vector::I8(_) => 0xC8,
            Vector::I16(_) => 0xC9,
            Vector::I32(_) => 0xCA,
            Vector::I64(_) => 0xCB,
            Vector::F32(_) => 0xC6,
            Vector::F64(_) => 0xC1,
        }
    }

    /// The elements as big-endian bytes, as sent on the wire.
    pub fn to_be_bytes(&self) -> Vec<u8> {
        fn collect<const N: usize, T: Copy>(items: &[T], f: fn(T) -> [u8; N]) -> Vec<u8> {
            let mut out = Vec::with_capacity(items.len() * N);
            for &item in items {
                out.extend_from_slice(&f(item));
            }
            out
        }
        match self {
            Vector::I8(v) => collect(v, i8::to_be_bytes),
            Vector::I16(v) => collect(v, i16::to_be_bytes),
            Vector::I32(v) => collect(v, i32::to_be_bytes),
            Vector::I64(v) => collect(v, i64::to_be_bytes),
            Vector::F32(v) => collect(v, f32::to_be_bytes),
            Vector::F64(v) => collect(v, f64::to_be_bytes),
        }
    }

    /// Parses the wire form: element-type marker and big-endian data. The error says why the
    /// pair is invalid (unknown marker, or a length that is not a multiple of the element size).
    pub fn from_be_bytes(type_marker: u8, data: &[u8]) -> Result<Vector, String> {
        fn parse<const N: usize, T>(data: &[u8], f: fn([u8; N]) -> T) -> Result<Vec<T>, String> {
            if data.len() % N != 0 {
                return Err(format!(
                    "vector data of {} bytes is not a multiple of the {N}-byte element size",
                    data.len()
                ));
            }
            Ok(data
                .chunks_exact(N)
                .map(|chunk| {
                    let mut bytes = [0u8; N];
                    bytes.copy_from_slice(chunk);
                    f(bytes)
                })
                .collect())
        }
        Ok(match type_marker {
            0xC8 => Vector::I8(parse(data, i8::from_be_bytes)?),
            0xC9 => Vector::I16(parse(data, i16::from_be_bytes)?),
            0xCA => Vector::I32(parse(data, i32::from_be_bytes)?),
            0xCB => Vector::I64(parse(data, i64::from_be_bytes)?),
            0xC6 => Vector::F32(parse(data, f32::from_be_bytes)?),
            0xC1 => Vector::F64(parse(data, f64::from_be_bytes)?),
            other => return Err(format!("unknown vector element type marker {other:#04X}")),
        })
    }
}

/// A value of a type this protocol version cannot carry (structure `3F`, Bolt 6.0+): the server
/// sends its name and the Bolt version that would be needed instead of the value itself.
///
/// For display and diagnostics only; it cannot be sent back as a parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Unsupported {
    /// The type's name, e.g. `FLOAT16 VECTOR`.
    pub name: PackStr,
    /// The lowest Bolt version (major, minor) that supports the type.
    pub minimum_protocol_version: (u8, u8),
    /// Extra information; currently only an optional `message` string.
    pub extra: Map,
}

impl Unsupported {
    /// The server's explanation, if it sent one.
    pub fn message(&self) -> Option<&str> {
        match self.extra.get("message") {
            Some(Value::String(s)) => Some(s.as_str()),
            _ => None,
        }
    }
}
