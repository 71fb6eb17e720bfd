//! Records delivered undecoded: [`RawRecord`].

use std::sync::Arc;

use bytes::{Buf, Bytes};
use quiver_packstream::Decoder;

use crate::error::BoltError;
use crate::value::{self, Value, ValueContext};

/// The fields of one RECORD, validated on arrival but decoded only when asked for.
///
/// Delivered as [`Event::RawRecord`](crate::Event::RawRecord) when
/// [`ConnectionConfig::raw_records`](crate::ConnectionConfig::raw_records) is set. The
/// [`Connection`](crate::Connection) checked every field with the same decoder that
/// [`decode_value`](crate::value::decode_value) uses (PackStream, UTF-8, nesting depth, the
/// structures of the negotiated version), so decoding here cannot fail: a reader that looks at
/// one field of a wide row decodes just that field, and lists, maps and strings it never reads
/// are never built. Strings and byte arrays share the received buffer (no copies).
///
/// ```
/// # use quiver_bolt::value::Value;
/// # fn show(record: &quiver_bolt::RawRecord) {
/// let first: Option<Value> = record.field(0); // decodes field 0 only
/// let all: Vec<Value> = record.decode(); // everything
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RawRecord {
    /// The PackStream encoding of the fields, one after another (the RECORD's list body).
    fields: Bytes,
    len: usize,
    ctx: ValueContext,
}

impl RawRecord {
    /// Validates the `len` fields at the decoder's position, which must end the input, and keeps
    /// them. Crate-private: only validated records exist.
    pub(crate) fn read(
        mut decoder: Decoder,
        len: usize,
        ctx: &ValueContext,
    ) -> Result<RawRecord, BoltError> {
        let start = decoder.position();
        let depth_limit = ctx
            .max_depth()
            .min(decoder.limits().max_depth)
            .min(SCAN_DEPTH);
        // Plain data that fills the message exactly is valid as it is; anything else (structures,
        // errors, trailing bytes) goes through the full decoder's checks, which decide and give
        // the same error an eager connection gives.
        let plain = scan_fields(decoder.remaining_input(), len, depth_limit);
        if !plain {
            for _ in 0..len {
                value::validate_value(&mut decoder, ctx)
                    .map_err(|e| BoltError::Decode(Arc::new(e)))?;
            }
        }
        if !plain && !decoder.is_empty() {
            return Err(BoltError::protocol(format!(
                "{} trailing bytes after a response message",
                decoder.remaining()
            )));
        }
        let mut fields = decoder.into_input();
        fields.advance(start);
        Ok(RawRecord {
            fields,
            len,
            ctx: *ctx,
        })
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the record has no fields.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The PackStream bytes of the fields, one after another (for proxies and recorders).
    pub fn as_bytes(&self) -> &Bytes {
        &self.fields
    }

    /// The value context the fields are decoded with (the connection's Bolt version).
    pub fn context(&self) -> ValueContext {
        self.ctx
    }

    /// Field `index`, decoded (skipping the fields before it), or `None` past the end.
    pub fn field(&self, index: usize) -> Option<Value> {
        if index >= self.len {
            return None;
        }
        // Plain fields are stepped over by the scanner; from the first structure on, by the
        // decoder.
        let mut at = 0;
        let mut skipped = 0;
        while skipped < index {
            match scan(&self.fields, at, 0, SCAN_DEPTH) {
                Some(end) => at = end,
                None => break,
            }
            skipped += 1;
        }
        if skipped == index {
            if let Some(value) = plain_scalar(&self.fields, at) {
                return Some(value);
            }
        }
        let mut decoder = Decoder::new(self.fields.slice(at.min(self.fields.len())..));
        for _ in skipped..index {
            // Validated on arrival: cannot fail (and if it did, the field would read as null).
            if decoder.skip_value().is_err() {
                return Some(unreachable_invalid());
            }
        }
        Some(value::decode_value(&mut decoder, &self.ctx).unwrap_or_else(|_| unreachable_invalid()))
    }

    /// All fields, decoded.
    pub fn decode(&self) -> Vec<Value> {
        let mut decoder = Decoder::new(self.fields.clone());
        (0..self.len)
            .map(|_| {
                value::decode_value(&mut decoder, &self.ctx)
                    .unwrap_or_else(|_| unreachable_invalid())
            })
            .collect()
    }
}

/// Nesting the fast scanner follows before leaving a value to the full decoder.
const SCAN_DEPTH: usize = 32;

/// Whether `data` is exactly `len` plain values (see [`scan`]).
fn scan_fields(data: &[u8], len: usize, depth_limit: usize) -> bool {
    let mut at = 0;
    for _ in 0..len {
        match scan(data, at, 0, depth_limit) {
            Some(end) => at = end,
            None => return false,
        }
    }
    at == data.len()
}

/// The fast path of record validation: where the plain value at `at` ends, if it is plain and
/// valid — scalars, byte arrays, UTF-8 strings, lists and maps with string keys, nested at most
/// `depth_limit` deep. `None` for anything else (a structure, a malformed or truncated value,
/// deeper nesting): the caller then runs the full decoder, which decides and names the error.
/// Everything accepted here, the full decoder accepts too.
fn scan(data: &[u8], at: usize, depth: usize, depth_limit: usize) -> Option<usize> {
    let marker = *data.get(at)?;
    let body = at + 1;
    let sized = |width: usize| -> Option<(usize, usize)> {
        let raw = data.get(body..body.checked_add(width)?)?;
        let len = raw.iter().fold(0usize, |n, b| (n << 8) | usize::from(*b));
        Some((len, body + width))
    };
    let string = |len: usize, from: usize| -> Option<usize> {
        let to = from.checked_add(len)?;
        let text = data.get(from..to)?;
        (text.is_ascii() || std::str::from_utf8(text).is_ok()).then_some(to)
    };
    let container = |len: usize, from: usize, map: bool| -> Option<usize> {
        if depth + 1 > depth_limit {
            return None;
        }
        let mut at = from;
        for _ in 0..len {
            if map {
                at = scan_key(data, at)?;
            }
            at = scan(data, at, depth + 1, depth_limit)?;
        }
        Some(at)
    };
    match marker {
        0x00..=0x7F | 0xF0..=0xFF | 0xC0 | 0xC2 | 0xC3 => Some(body),
        0x80..=0x8F => string(usize::from(marker & 0x0F), body),
        0x90..=0x9F => container(usize::from(marker & 0x0F), body, false),
        0xA0..=0xAF => container(usize::from(marker & 0x0F), body, true),
        0xC1 | 0xCB => data.get(at..body + 8).map(|_| body + 8),
        0xC8 => data.get(at..body + 1).map(|_| body + 1),
        0xC9 => data.get(at..body + 2).map(|_| body + 2),
        0xCA => data.get(at..body + 4).map(|_| body + 4),
        0xCC..=0xCE => {
            let (len, from) = sized(1 << (marker - 0xCC))?;
            let to = from.checked_add(len)?;
            data.get(from..to).map(|_| to)
        }
        0xD0..=0xD2 => {
            let (len, from) = sized(1 << (marker - 0xD0))?;
            string(len, from)
        }
        0xD4..=0xD6 => {
            let (len, from) = sized(1 << (marker - 0xD4))?;
            container(len, from, false)
        }
        0xD8..=0xDA => {
            let (len, from) = sized(1 << (marker - 0xD8))?;
            container(len, from, true)
        }
        _ => None,
    }
}

/// The number, boolean or null at `at`, read straight from the bytes (the common typed-getter
/// case, without setting up a decoder); `None` for anything else.
fn plain_scalar(data: &[u8], at: usize) -> Option<Value> {
    let marker = *data.get(at)?;
    let bytes = |n: usize| data.get(at + 1..at + 1 + n);
    Some(match marker {
        0x00..=0x7F | 0xF0..=0xFF => Value::Integer(i64::from(marker as i8)),
        0xC0 => Value::Null,
        0xC2 => Value::Boolean(false),
        0xC3 => Value::Boolean(true),
        0xC8 => Value::Integer(i64::from(i8::from_be_bytes(bytes(1)?.try_into().ok()?))),
        0xC9 => Value::Integer(i64::from(i16::from_be_bytes(bytes(2)?.try_into().ok()?))),
        0xCA => Value::Integer(i64::from(i32::from_be_bytes(bytes(4)?.try_into().ok()?))),
        0xCB => Value::Integer(i64::from_be_bytes(bytes(8)?.try_into().ok()?)),
        0xC1 => Value::Float(f64::from_bits(u64::from_be_bytes(
            bytes(8)?.try_into().ok()?,
        ))),
        _ => return None,
    })
}

/// A map key: a valid UTF-8 string.
fn scan_key(data: &[u8], at: usize) -> Option<usize> {
    match *data.get(at)? {
        0x80..=0x8F | 0xD0..=0xD2 => scan(data, at, 0, 0),
        _ => None,
    }
}

/// The fields were validated by the same decoder on arrival, so decoding them again cannot fail;
/// should that invariant ever break, debug builds stop here and release builds read null rather
/// than panic on server data.
#[cold]
fn unreachable_invalid() -> Value {
    debug_assert!(false, "a validated RawRecord failed to decode");
    Value::Null
}
