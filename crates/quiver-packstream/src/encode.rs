//! Encoding: a low-level writer API and [`encode_value`] for whole value trees.
//!
//! Every function writes into any [`BufMut`] and always picks the smallest marker. The header
//! writers let the Bolt layer encode messages field by field without building a [`Value`] tree:
//! write a header with the element count, then exactly that many values (for maps, alternating
//! key strings and values).

use bytes::BufMut;

use crate::Value;
use crate::marker;

/// Why a value cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A string, byte array, list or map is longer than PackStream's `u32` size field allows.
    #[error("{what} of length {len} is too large for PackStream (at most 4294967295); split it up")]
    TooLarge {
        /// What was too large: "string", "bytes", "list" or "map".
        what: &'static str,
        /// The length that was asked for.
        len: usize,
    },
    /// A structure has more than 15 fields, which PackStream cannot express.
    #[error("structure with {0} fields cannot be encoded: PackStream allows at most 15")]
    TooManyStructFields(usize),
}

/// Writes `null`.
pub fn write_null(buf: &mut impl BufMut) {
    buf.put_u8(marker::NULL);
}

/// Writes a boolean.
pub fn write_bool(buf: &mut impl BufMut, value: bool) {
    buf.put_u8(if value { marker::TRUE } else { marker::FALSE });
}

/// Writes an integer in the smallest form: tiny (−16…127), then 8, 16, 32 or 64 bits.
pub fn write_int(buf: &mut impl BufMut, value: i64) {
    if (-16..=127).contains(&value) {
        // Tiny int: the marker byte is the value's two's-complement low byte.
        buf.put_i8(value as i8);
    } else if let Ok(v) = i8::try_from(value) {
        buf.put_u8(marker::INT_8);
        buf.put_i8(v);
    } else if let Ok(v) = i16::try_from(value) {
        buf.put_u8(marker::INT_16);
        buf.put_i16(v);
    } else if let Ok(v) = i32::try_from(value) {
        buf.put_u8(marker::INT_32);
        buf.put_i32(v);
    } else {
        buf.put_u8(marker::INT_64);
        buf.put_i64(value);
    }
}

/// Writes a 64-bit float, keeping its exact bits (NaN payloads, `-0.0`).
pub fn write_float(buf: &mut impl BufMut, value: f64) {
    buf.put_u8(marker::FLOAT_64);
    buf.put_u64(value.to_bits());
}

/// Writes a size header: tiny form (`tiny_base | len` for len < 16) if the type has one,
/// then `u8`, `u16` and `u32` forms.
fn write_sized_header(
    buf: &mut impl BufMut,
    what: &'static str,
    tiny_base: Option<u8>,
    markers: [u8; 3],
    len: usize,
) -> Result<(), EncodeError> {
    let [m8, m16, m32] = markers;
    match (tiny_base, u8::try_from(len)) {
        (Some(base), Ok(small)) if small < 16 => buf.put_u8(base | small),
        (_, Ok(small)) => {
            buf.put_u8(m8);
            buf.put_u8(small);
        }
        (_, Err(_)) => {
            if let Ok(medium) = u16::try_from(len) {
                buf.put_u8(m16);
                buf.put_u16(medium);
            } else if let Ok(large) = u32::try_from(len) {
                buf.put_u8(m32);
                buf.put_u32(large);
            } else {
                return Err(EncodeError::TooLarge { what, len });
            }
        }
    }
    Ok(())
}

/// Writes a UTF-8 string.
pub fn write_str(buf: &mut impl BufMut, value: &str) -> Result<(), EncodeError> {
    write_utf8(buf, value.as_bytes())
}

/// Writes bytes already known to be UTF-8 as a string (skips re-validating a [`PackStr`]).
///
/// [`PackStr`]: crate::PackStr
fn write_utf8(buf: &mut impl BufMut, utf8: &[u8]) -> Result<(), EncodeError> {
    write_sized_header(
        buf,
        "string",
        Some(marker::TINY_STRING),
        [marker::STRING_8, marker::STRING_16, marker::STRING_32],
        utf8.len(),
    )?;
    buf.put_slice(utf8);
    Ok(())
}

/// Writes a byte array (PackStream has no tiny form for bytes).
pub fn write_bytes(buf: &mut impl BufMut, value: &[u8]) -> Result<(), EncodeError> {
    write_sized_header(
        buf,
        "bytes",
        None,
        [marker::BYTES_8, marker::BYTES_16, marker::BYTES_32],
        value.len(),
    )?;
    buf.put_slice(value);
    Ok(())
}

/// Writes a list header; follow it with exactly `len` values.
pub fn write_list_header(buf: &mut impl BufMut, len: usize) -> Result<(), EncodeError> {
    write_sized_header(
        buf,
        "list",
        Some(marker::TINY_LIST),
        [marker::LIST_8, marker::LIST_16, marker::LIST_32],
        len,
    )
}

/// Writes a map header; follow it with exactly `len` key/value pairs (each key a string).
pub fn write_map_header(buf: &mut impl BufMut, len: usize) -> Result<(), EncodeError> {
    write_sized_header(
        buf,
        "map",
        Some(marker::TINY_MAP),
        [marker::MAP_8, marker::MAP_16, marker::MAP_32],
        len,
    )
}

/// Writes a structure header (marker and tag); follow it with exactly `len` fields, `len <= 15`.
pub fn write_struct_header(buf: &mut impl BufMut, tag: u8, len: usize) -> Result<(), EncodeError> {
    match u8::try_from(len) {
        Ok(small) if small < 16 => {
            buf.put_u8(marker::TINY_STRUCT | small);
            buf.put_u8(tag);
            Ok(())
        }
        _ => Err(EncodeError::TooManyStructFields(len)),
    }
}

/// Encodes a whole value tree.
///
/// Recurses once per nesting level, so a tree nested hundreds of thousands of levels deep could
/// exhaust the stack; trees produced by the [`Decoder`](crate::Decoder) are bounded by its depth
/// limit. On error, part of the value may already have been written to `buf`.
pub fn encode_value(buf: &mut impl BufMut, value: &Value) -> Result<(), EncodeError> {
    match value {
        Value::Null => write_null(buf),
        Value::Boolean(b) => write_bool(buf, *b),
        Value::Integer(i) => write_int(buf, *i),
        Value::Float(f) => write_float(buf, *f),
        Value::Bytes(b) => write_bytes(buf, b)?,
        Value::String(s) => write_utf8(buf, s.as_bytes())?,
        Value::List(items) => {
            write_list_header(buf, items.len())?;
            for item in items {
                encode_value(buf, item)?;
            }
        }
        Value::Map(map) => {
            write_map_header(buf, map.len())?;
            for (key, item) in map {
                write_utf8(buf, key.as_bytes())?;
                encode_value(buf, item)?;
            }
        }
        Value::Structure(s) => {
            write_struct_header(buf, s.tag, s.fields.len())?;
            for field in &s.fields {
                encode_value(buf, field)?;
            }
        }
    }
    Ok(())
}
