//! Decoding: a zero-copy pull parser ([`Decoder::next_token`]) and a tree API
//! ([`Decoder::decode_value`], [`decode`]).
//!
//! Strings and byte arrays are slices of the input [`Bytes`] (a reference-count increment, no
//! copy). The decoder is built for hostile input: it never panics, reports every problem as a
//! [`DecodeError`] with the byte offset, limits nesting depth, and never reserves more elements
//! than the remaining input could hold, so a header claiming 2^32 items allocates nothing big.

use std::fmt;
use std::ops::Range;

use bytes::Bytes;

use crate::marker;
use crate::{Map, PackStr, Structure, Value};

/// The most elements the tree decoder reserves up front for one container.
const PREALLOC_LIMIT: usize = 1024;

/// Limits that keep the decoder safe on hostile input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// How many containers (lists, maps, structures) may be nested inside one another.
    /// `0` allows only scalars. The tree decoder recurses once per level, so this also bounds
    /// stack use. Default: 64.
    pub max_depth: usize,
}

impl DecodeLimits {
    /// The default maximum nesting depth.
    pub const DEFAULT_MAX_DEPTH: usize = 64;
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_depth: Self::DEFAULT_MAX_DEPTH,
        }
    }
}

/// A decoding failure and where it happened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at byte {offset}")]
pub struct DecodeError {
    /// Byte offset in the input of the marker of the value at fault (for
    /// [`DecodeErrorKind::TrailingBytes`], the first byte left over).
    pub offset: usize,
    /// What went wrong.
    pub kind: DecodeErrorKind,
}

/// What kind of problem the decoder found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input ended inside a value: the message is truncated or a size field is wrong.
    #[error("input ended inside a value (truncated data or a wrong size field)")]
    UnexpectedEnd,
    /// A marker byte that PackStream reserves; the data is not PackStream or is corrupt.
    #[error("reserved marker byte 0x{0:02X}: the data is not valid PackStream")]
    ReservedMarker(u8),
    /// A string's bytes are not valid UTF-8.
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    /// Containers are nested deeper than [`DecodeLimits::max_depth`].
    #[error(
        "values nested deeper than the limit of {max_depth}; raise DecodeLimits::max_depth if the input is trusted"
    )]
    DepthLimitExceeded {
        /// The limit in force.
        max_depth: usize,
    },
    /// A map key is not a string (PackStream map keys must be strings).
    #[error("map key is not a string")]
    MapKeyNotString,
    /// A typed read (`read_str`, `read_int`, …) found a different type.
    #[error("expected {expected}, found marker 0x{found_marker:02X}")]
    UnexpectedType {
        /// The type that was asked for.
        expected: &'static str,
        /// The marker byte found instead.
        found_marker: u8,
    },
    /// [`decode`] found bytes after the one value it expected.
    #[error("{count} bytes left over after the value")]
    TrailingBytes {
        /// How many bytes were left.
        count: usize,
    },
}

/// One step of the pull parser: a scalar, or the header of a container whose elements follow.
#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    /// `null`.
    Null,
    /// A boolean.
    Boolean(bool),
    /// An integer.
    Integer(i64),
    /// A float.
    Float(f64),
    /// A byte array, sliced from the input.
    Bytes(Bytes),
    /// A string, sliced from the input.
    String(PackStr),
    /// A list header; `len` values follow.
    List {
        /// Number of elements.
        len: usize,
    },
    /// A map header; `len` key/value pairs follow, each key a string.
    Map {
        /// Number of entries.
        len: usize,
    },
    /// A structure header; `len` fields follow.
    Structure {
        /// The tag byte.
        tag: u8,
        /// Number of fields (0–15).
        len: usize,
    },
}

/// One step of the pull parser with strings and byte arrays borrowed from the decoder's input
/// ([`Decoder::next_token_ref`]): for a consumer that converts each token at once (into another
/// language's objects, say), it saves the reference counting of [`Token`]'s `Bytes` slices.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TokenRef<'a> {
    /// `null`.
    Null,
    /// A boolean.
    Boolean(bool),
    /// An integer.
    Integer(i64),
    /// A float.
    Float(f64),
    /// A byte array, borrowed from the input.
    Bytes(&'a [u8]),
    /// A string, borrowed from the input.
    String(&'a str),
    /// A list header; `len` values follow.
    List {
        /// Number of elements.
        len: usize,
    },
    /// A map header; `len` key/value pairs follow, each key a string.
    Map {
        /// Number of entries.
        len: usize,
    },
    /// A structure header; `len` fields follow.
    Structure {
        /// The tag byte.
        tag: u8,
        /// Number of fields (0–15).
        len: usize,
    },
}

/// A parsed marker and its size fields, before slicing the input.
#[derive(Debug, Clone)]
enum Header {
    Null,
    Boolean(bool),
    Integer(i64),
    Float(f64),
    Bytes(Range<usize>),
    /// Already checked to be UTF-8.
    String(Range<usize>),
    List(usize),
    Map(usize),
    Structure(u8, usize),
}

/// A zero-copy PackStream decoder over a [`Bytes`] buffer.
///
/// Use [`next_token`](Self::next_token) to pull one scalar or container header at a time, the
/// typed `read_*` helpers when the layout is known, [`skip_value`](Self::skip_value) to jump
/// over a value, or [`decode_value`](Self::decode_value) to build a [`Value`] tree.
///
/// When a method fails, the position is left where it was before the call.
#[derive(Clone)]
pub struct Decoder {
    input: Bytes,
    pos: usize,
    limits: DecodeLimits,
}

impl fmt::Debug for Decoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoder")
            .field("len", &self.input.len())
            .field("pos", &self.pos)
            .field("limits", &self.limits)
            .finish()
    }
}

fn array_at<const N: usize>(data: &[u8], at: usize) -> Option<[u8; N]> {
    data.get(at..at.checked_add(N)?)?.try_into().ok()
}

impl Decoder {
    /// A decoder over `input` with default limits.
    pub fn new(input: Bytes) -> Self {
        Self::with_limits(input, DecodeLimits::default())
    }

    /// A decoder over `input` with the given limits.
    pub fn with_limits(input: Bytes, limits: DecodeLimits) -> Self {
        Decoder {
            input,
            pos: 0,
            limits,
        }
    }

    /// Current byte offset in the input.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes not yet consumed.
    pub fn remaining(&self) -> usize {
        self.input.len().saturating_sub(self.pos)
    }

    /// Whether all input has been consumed.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The limits in force.
    pub fn limits(&self) -> DecodeLimits {
        self.limits
    }

    /// The not yet consumed input (shares the buffer).
    pub fn remaining_bytes(&self) -> Bytes {
        self.input.slice(self.pos.min(self.input.len())..)
    }

    /// The not yet consumed input, borrowed (for a fast pre-scan by a layer above).
    pub fn remaining_input(&self) -> &[u8] {
        self.input.get(self.pos..).unwrap_or_default()
    }

    /// The whole input, given back without copying (the position is dropped): for a layer that
    /// validated a value with this decoder and keeps its bytes.
    pub fn into_input(self) -> Bytes {
        self.input
    }

    /// The next marker byte, without consuming it.
    pub fn peek_marker(&self) -> Result<u8, DecodeError> {
        self.input
            .get(self.pos)
            .copied()
            .ok_or_else(|| self.error(self.pos, DecodeErrorKind::UnexpectedEnd))
    }

    #[cold]
    fn error(&self, offset: usize, kind: DecodeErrorKind) -> DecodeError {
        DecodeError { offset, kind }
    }

    /// Parses the marker at the current position and its size fields. Returns the header and the
    /// position after it (for strings and bytes: after the payload). Does not move.
    ///
    /// The one-byte forms (tiny ints, strings, lists, maps, structures) are handled inline; the
    /// rest in [`parse_wide_header`](Self::parse_wide_header), keeping this hot path small.
    #[inline]
    fn parse_header(&self) -> Result<(Header, usize), DecodeError> {
        self.parse_header_checking::<true>()
    }

    /// [`parse_header`](Self::parse_header), checking strings for UTF-8 only if `CHECK_UTF8`
    /// (for a caller that checks them itself, once).
    #[inline]
    fn parse_header_checking<const CHECK_UTF8: bool>(
        &self,
    ) -> Result<(Header, usize), DecodeError> {
        let data: &[u8] = &self.input;
        let start = self.pos;
        let Some(&m) = data.get(start) else {
            return Err(self.unexpected_end());
        };
        let body = start + 1;
        let nibble = usize::from(m & 0x0F);
        match m {
            0x00..=0x7F => Ok((Header::Integer(i64::from(m)), body)),
            0xF0..=0xFF => Ok((Header::Integer(i64::from(m as i8)), body)),
            0x80..=0x8F => self.string_header::<CHECK_UTF8>(body, nibble),
            0x90..=0x9F => Ok((Header::List(nibble), body)),
            0xA0..=0xAF => Ok((Header::Map(nibble), body)),
            0xB0..=0xBF => match data.get(body) {
                Some(&tag) => Ok((Header::Structure(tag, nibble), body + 1)),
                None => Err(self.unexpected_end()),
            },
            _ => self.parse_wide_header::<CHECK_UTF8>(m, body),
        }
    }

    /// The markers in `C0`–`EF`: null, booleans, floats, sized ints, and the 8/16/32-bit size
    /// forms of strings, bytes, lists and maps.
    #[inline(never)]
    fn parse_wide_header<const CHECK_UTF8: bool>(
        &self,
        m: u8,
        body: usize,
    ) -> Result<(Header, usize), DecodeError> {
        let data: &[u8] = &self.input;
        let header = match m {
            marker::NULL => (Header::Null, body),
            marker::FALSE => (Header::Boolean(false), body),
            marker::TRUE => (Header::Boolean(true), body),
            marker::FLOAT_64 => {
                let raw = self.array_at::<8>(body)?;
                (
                    Header::Float(f64::from_bits(u64::from_be_bytes(raw))),
                    body + 8,
                )
            }
            marker::INT_8 => {
                let raw = self.array_at::<1>(body)?;
                (Header::Integer(i64::from(i8::from_be_bytes(raw))), body + 1)
            }
            marker::INT_16 => {
                let raw = self.array_at::<2>(body)?;
                (
                    Header::Integer(i64::from(i16::from_be_bytes(raw))),
                    body + 2,
                )
            }
            marker::INT_32 => {
                let raw = self.array_at::<4>(body)?;
                (
                    Header::Integer(i64::from(i32::from_be_bytes(raw))),
                    body + 4,
                )
            }
            marker::INT_64 => {
                let raw = self.array_at::<8>(body)?;
                (Header::Integer(i64::from_be_bytes(raw)), body + 8)
            }
            marker::BYTES_8 | marker::BYTES_16 | marker::BYTES_32 => {
                let (len, from) = self.size_at(body, m - marker::BYTES_8)?;
                let to = self.payload_end(from, len)?;
                (Header::Bytes(from..to), to)
            }
            marker::STRING_8 | marker::STRING_16 | marker::STRING_32 => {
                let (len, from) = self.size_at(body, m - marker::STRING_8)?;
                return self.string_header::<CHECK_UTF8>(from, len);
            }
            marker::LIST_8 | marker::LIST_16 | marker::LIST_32 => {
                let (len, next) = self.size_at(body, m - marker::LIST_8)?;
                (Header::List(len), next)
            }
            marker::MAP_8 | marker::MAP_16 | marker::MAP_32 => {
                let (len, next) = self.size_at(body, m - marker::MAP_8)?;
                (Header::Map(len), next)
            }
            _ => {
                let start = body - 1;
                debug_assert_eq!(data.get(start), Some(&m));
                return Err(self.error(start, DecodeErrorKind::ReservedMarker(m)));
            }
        };
        Ok(header)
    }

    /// Reads a big-endian size field of 1, 2 or 4 bytes (`form` 0, 1 or 2) at `at`; returns the
    /// size and the position after the field.
    #[inline]
    fn size_at(&self, at: usize, form: u8) -> Result<(usize, usize), DecodeError> {
        Ok(match form {
            0 => (usize::from(self.array_at::<1>(at)?[0]), at + 1),
            1 => (
                usize::from(u16::from_be_bytes(self.array_at::<2>(at)?)),
                at + 2,
            ),
            _ => (u32::from_be_bytes(self.array_at::<4>(at)?) as usize, at + 4),
        })
    }

    #[inline]
    fn array_at<const N: usize>(&self, at: usize) -> Result<[u8; N], DecodeError> {
        array_at::<N>(&self.input, at).ok_or_else(|| self.unexpected_end())
    }

    /// The end of a `len`-byte payload starting at `from`, if the input holds it.
    #[inline]
    fn payload_end(&self, from: usize, len: usize) -> Result<usize, DecodeError> {
        match from.checked_add(len) {
            Some(to) if to <= self.input.len() => Ok(to),
            _ => Err(self.unexpected_end()),
        }
    }

    /// A string of `len` bytes starting at `from`, checked to be UTF-8 if `CHECK_UTF8`.
    #[inline]
    fn string_header<const CHECK_UTF8: bool>(
        &self,
        from: usize,
        len: usize,
    ) -> Result<(Header, usize), DecodeError> {
        let to = self.payload_end(from, len)?;
        let utf8 = self.input.get(from..to).unwrap_or_default();
        // ASCII (most keys and short strings) is checked inline; the rest by the full check.
        if CHECK_UTF8 && !utf8.is_ascii() && std::str::from_utf8(utf8).is_err() {
            return Err(self.error(self.pos, DecodeErrorKind::InvalidUtf8));
        }
        Ok((Header::String(from..to), to))
    }

    /// "Input ended" at the value that starts at the current position.
    #[cold]
    #[inline(never)]
    fn unexpected_end(&self) -> DecodeError {
        self.error(self.pos, DecodeErrorKind::UnexpectedEnd)
    }

    fn to_token(&self, header: Header) -> Token {
        match header {
            Header::Null => Token::Null,
            Header::Boolean(b) => Token::Boolean(b),
            Header::Integer(i) => Token::Integer(i),
            Header::Float(f) => Token::Float(f),
            Header::Bytes(r) => Token::Bytes(self.input.slice(r)),
            Header::String(r) => Token::String(PackStr::from_validated(self.input.slice(r))),
            Header::List(len) => Token::List { len },
            Header::Map(len) => Token::Map { len },
            Header::Structure(tag, len) => Token::Structure { tag, len },
        }
    }

    /// Reads one scalar, or one container header (the elements are the following tokens).
    ///
    /// Containers read this way are not depth-limited: the caller drives the nesting.
    pub fn next_token(&mut self) -> Result<Token, DecodeError> {
        let (header, next) = self.parse_header()?;
        self.pos = next;
        Ok(self.to_token(header))
    }

    /// Like [`next_token`](Self::next_token), but strings and byte arrays borrow the input
    /// instead of sharing it. The same checks, the same errors; on error the position stays.
    pub fn next_token_ref(&mut self) -> Result<TokenRef<'_>, DecodeError> {
        // Strings are checked once, below, where the check also gives the `&str`.
        let (header, next) = self.parse_header_checking::<false>()?;
        let token = match header {
            Header::Null => TokenRef::Null,
            Header::Boolean(b) => TokenRef::Boolean(b),
            Header::Integer(i) => TokenRef::Integer(i),
            Header::Float(f) => TokenRef::Float(f),
            Header::Bytes(r) => TokenRef::Bytes(self.input.get(r).unwrap_or_default()),
            Header::String(r) => {
                let utf8 = self.input.get(r).unwrap_or_default();
                match std::str::from_utf8(utf8) {
                    Ok(s) => TokenRef::String(s),
                    Err(_) => return Err(self.error(self.pos, DecodeErrorKind::InvalidUtf8)),
                }
            }
            Header::List(len) => TokenRef::List { len },
            Header::Map(len) => TokenRef::Map { len },
            Header::Structure(tag, len) => TokenRef::Structure { tag, len },
        };
        self.pos = next;
        Ok(token)
    }

    /// Skips one whole value (a container with everything in it). Checks the same things as
    /// [`decode_value`](Self::decode_value) (UTF-8, map keys, depth) but allocates nothing.
    pub fn skip_value(&mut self) -> Result<(), DecodeError> {
        let start = self.pos;
        let result = self.skip_at_depth(0);
        if result.is_err() {
            self.pos = start;
        }
        result
    }

    fn enter(&self, depth: usize) -> Result<(), DecodeError> {
        if depth >= self.limits.max_depth {
            return Err(self.error(
                self.pos,
                DecodeErrorKind::DepthLimitExceeded {
                    max_depth: self.limits.max_depth,
                },
            ));
        }
        Ok(())
    }

    fn skip_at_depth(&mut self, depth: usize) -> Result<(), DecodeError> {
        let (header, next) = self.parse_header()?;
        match header {
            Header::List(len) | Header::Structure(_, len) => {
                self.enter(depth)?;
                self.pos = next;
                for _ in 0..len {
                    self.skip_at_depth(depth + 1)?;
                }
            }
            Header::Map(len) => {
                self.enter(depth)?;
                self.pos = next;
                for _ in 0..len {
                    self.map_key_range()?;
                    self.skip_at_depth(depth + 1)?;
                }
            }
            _ => self.pos = next,
        }
        Ok(())
    }

    /// Reads a map key, which must be a string.
    fn map_key_range(&mut self) -> Result<Range<usize>, DecodeError> {
        let at = self.pos;
        match self.parse_header()? {
            (Header::String(range), next) => {
                self.pos = next;
                Ok(range)
            }
            _ => Err(self.error(at, DecodeErrorKind::MapKeyNotString)),
        }
    }

    /// Decodes one whole value into a tree, within the depth limit.
    ///
    /// Repeated map keys: the last value wins and the key keeps its first position.
    pub fn decode_value(&mut self) -> Result<Value, DecodeError> {
        let start = self.pos;
        let result = self.value_at_depth(0);
        if result.is_err() {
            self.pos = start;
        }
        result
    }

    /// How many elements to reserve for a container claiming `len` elements of at least
    /// `min_bytes` each: never more than the remaining input could hold, and never more than
    /// 1024 — otherwise every level of a deep input could each reserve room for the whole
    /// remaining input (depth × input size); beyond the limit the `Vec` grows as real elements
    /// arrive. Layers that build their own containers from the pull API (e.g. Bolt's typed
    /// values) use this too, so a lying header cannot make them allocate either.
    pub fn prealloc(&self, len: usize, min_bytes: usize) -> usize {
        len.min(self.remaining() / min_bytes.max(1))
            .min(PREALLOC_LIMIT)
    }

    fn value_at_depth(&mut self, depth: usize) -> Result<Value, DecodeError> {
        let (header, next) = self.parse_header()?;
        Ok(match header {
            Header::Null => {
                self.pos = next;
                Value::Null
            }
            Header::Boolean(b) => {
                self.pos = next;
                Value::Boolean(b)
            }
            Header::Integer(i) => {
                self.pos = next;
                Value::Integer(i)
            }
            Header::Float(f) => {
                self.pos = next;
                Value::Float(f)
            }
            Header::Bytes(r) => {
                self.pos = next;
                Value::Bytes(self.input.slice(r))
            }
            Header::String(r) => {
                self.pos = next;
                Value::String(PackStr::from_validated(self.input.slice(r)))
            }
            Header::List(len) => {
                self.enter(depth)?;
                self.pos = next;
                let mut items = Vec::with_capacity(self.prealloc(len, 1));
                for _ in 0..len {
                    items.push(self.value_at_depth(depth + 1)?);
                }
                Value::List(items)
            }
            Header::Structure(tag, len) => {
                self.enter(depth)?;
                self.pos = next;
                let mut fields = Vec::with_capacity(self.prealloc(len, 1));
                for _ in 0..len {
                    fields.push(self.value_at_depth(depth + 1)?);
                }
                Value::Structure(Structure { tag, fields })
            }
            Header::Map(len) => {
                self.enter(depth)?;
                self.pos = next;
                // Each entry needs at least two bytes (key marker and value marker).
                let mut entries = Vec::with_capacity(self.prealloc(len, 2));
                for _ in 0..len {
                    let key = self.map_key_range()?;
                    let key = PackStr::from_validated(self.input.slice(key));
                    let value = self.value_at_depth(depth + 1)?;
                    entries.push((key, value));
                }
                Value::Map(Map::from_entries_last_wins(entries))
            }
        })
    }

    /// Reads the next value, which must be of the type `expected` (checked by `pick`).
    fn read_typed<T>(
        &mut self,
        expected: &'static str,
        pick: impl FnOnce(&Self, Header) -> Option<T>,
    ) -> Result<T, DecodeError> {
        let at = self.pos;
        let (header, next) = self.parse_header()?;
        match pick(self, header) {
            Some(v) => {
                self.pos = next;
                Ok(v)
            }
            None => Err(self.error(
                at,
                DecodeErrorKind::UnexpectedType {
                    expected,
                    found_marker: self.input.get(at).copied().unwrap_or_default(),
                },
            )),
        }
    }

    /// Reads a string (zero-copy).
    pub fn read_str(&mut self) -> Result<PackStr, DecodeError> {
        self.read_typed("string", |d, h| match h {
            Header::String(r) => Some(PackStr::from_validated(d.input.slice(r))),
            _ => None,
        })
    }

    /// Reads a byte array (zero-copy).
    pub fn read_bytes(&mut self) -> Result<Bytes, DecodeError> {
        self.read_typed("bytes", |d, h| match h {
            Header::Bytes(r) => Some(d.input.slice(r)),
            _ => None,
        })
    }

    /// Reads an integer.
    pub fn read_int(&mut self) -> Result<i64, DecodeError> {
        self.read_typed("integer", |_, h| match h {
            Header::Integer(i) => Some(i),
            _ => None,
        })
    }

    /// Reads a float.
    pub fn read_float(&mut self) -> Result<f64, DecodeError> {
        self.read_typed("float", |_, h| match h {
            Header::Float(f) => Some(f),
            _ => None,
        })
    }

    /// Reads a boolean.
    pub fn read_bool(&mut self) -> Result<bool, DecodeError> {
        self.read_typed("boolean", |_, h| match h {
            Header::Boolean(b) => Some(b),
            _ => None,
        })
    }

    /// Reads a list header and returns the element count; the elements follow.
    pub fn read_list_header(&mut self) -> Result<usize, DecodeError> {
        self.read_typed("list", |_, h| match h {
            Header::List(len) => Some(len),
            _ => None,
        })
    }

    /// Reads a map header and returns the entry count; `len` key/value pairs follow.
    pub fn read_map_header(&mut self) -> Result<usize, DecodeError> {
        self.read_typed("map", |_, h| match h {
            Header::Map(len) => Some(len),
            _ => None,
        })
    }

    /// Reads a structure header and returns `(tag, field count)`; the fields follow.
    pub fn read_struct_header(&mut self) -> Result<(u8, usize), DecodeError> {
        self.read_typed("structure", |_, h| match h {
            Header::Structure(tag, len) => Some((tag, len)),
            _ => None,
        })
    }
}

/// Decodes exactly one value from `input` with default limits; bytes after it are an error.
pub fn decode(input: Bytes) -> Result<Value, DecodeError> {
    decode_with_limits(input, DecodeLimits::default())
}

/// Decodes exactly one value from `input` with the given limits; bytes after it are an error.
pub fn decode_with_limits(input: Bytes, limits: DecodeLimits) -> Result<Value, DecodeError> {
    let mut decoder = Decoder::with_limits(input, limits);
    let value = decoder.decode_value()?;
    if !decoder.is_empty() {
        return Err(DecodeError {
            offset: decoder.position(),
            kind: DecodeErrorKind::TrailingBytes {
                count: decoder.remaining(),
            },
        });
    }
    Ok(value)
}
