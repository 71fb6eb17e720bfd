//! PackStream, the binary value format of Neo4j's Bolt protocol: a value model, an encoder and
//! a zero-copy decoder.
//!
//! The crate is pure (no I/O) and built for hostile input: decoding never panics, every error
//! carries the byte offset, nesting depth is limited ([`DecodeLimits`]) and no header can make
//! the decoder reserve more memory than the input could fill.
//!
//! * [`Value`], [`PackStr`], [`Map`], [`Structure`]: the value model. Strings and byte arrays
//!   share the decoder's input buffer.
//! * [`encode`]: writers for single values and container headers (always the smallest
//!   marker), and [`encode_value`] / [`to_bytes`] for trees.
//! * [`Decoder`]: a pull parser ([`Decoder::next_token`], [`Decoder::next_token_ref`], typed `read_*` helpers,
//!   [`Decoder::skip_value`]) and a tree decoder ([`Decoder::decode_value`], [`decode`]).
//!
//! # Example
//!
//! ```
//! use quiver_packstream::{Decoder, Map, Token, Value, decode, encode, to_bytes};
//!
//! // Build and encode a value tree.
//! let mut props = Map::new();
//! props.insert("name", Value::from("Alice"));
//! props.insert("age", Value::from(33));
//! let bytes = to_bytes(&Value::Map(props.clone())).unwrap();
//! assert_eq!(bytes[0], 0xA2); // tiny map with two entries
//!
//! // Decode it back as a tree.
//! assert_eq!(decode(bytes.clone()).unwrap(), Value::Map(props));
//!
//! // Or pull it token by token, without building a tree.
//! let mut decoder = Decoder::new(bytes);
//! assert_eq!(decoder.next_token().unwrap(), Token::Map { len: 2 });
//! assert_eq!(decoder.read_str().unwrap(), "name");
//! assert_eq!(decoder.read_str().unwrap(), "Alice");
//! assert_eq!(decoder.read_str().unwrap(), "age");
//! assert_eq!(decoder.read_int().unwrap(), 33);
//! assert!(decoder.is_empty());
//!
//! // The low-level writer encodes without a tree.
//! let mut buf = Vec::new();
//! encode::write_list_header(&mut buf, 2).unwrap();
//! encode::write_int(&mut buf, 1000);
//! encode::write_str(&mut buf, "hi").unwrap();
//! assert_eq!(buf, [0x92, 0xC9, 0x03, 0xE8, 0x82, b'h', b'i']);
//! ```
//!
//! # Hostile input
//!
//! Decoding is safe on untrusted bytes:
//!
//! * every error is a [`DecodeError`] with the byte offset of the offending marker; truncated
//!   input, reserved markers (`C4`–`C7`, `CF`, `D3`, `D7`, `DB`–`EF`), invalid UTF-8 and
//!   non-string map keys are all errors, never panics;
//! * containers nest at most [`DecodeLimits::max_depth`] deep (64 by default);
//! * a container is never given more capacity up front than the remaining input could fill,
//!   nor more than 1024 elements — so a header claiming 2^32 items allocates nothing big;
//! * a failed `Decoder` call leaves the position where it was.
//!
//! Map keys that repeat in the input: **the last value wins** and the key keeps its first
//! position, as in the official drivers.
//!
//! # Zero copy
//!
//! Decoded strings ([`PackStr`]) and byte arrays are [`bytes::Bytes`] slices of the input:
//! taking one is a reference-count increment, not a copy. (A `Bytes` built from a `Vec` moves
//! to shared storage on its first slice — one allocation per input buffer.) The pull API
//! allocates nothing per value; `tests/alloc.rs` checks that with a counting allocator.
#![warn(missing_docs)]

mod decode;
pub mod encode;
mod map;
mod marker;
mod packstr;
mod value;

pub use decode::{
    DecodeError, DecodeErrorKind, DecodeLimits, Decoder, Token, TokenRef, decode,
    decode_with_limits,
};
pub use encode::{EncodeError, encode_value};
pub use map::{IntoIter as MapIntoIter, Iter as MapIter, Map};
pub use packstr::PackStr;
pub use value::{Structure, Value};

/// Encodes one value into a new buffer.
pub fn to_bytes(value: &Value) -> Result<bytes::Bytes, EncodeError> {
    let mut buf = Vec::new();
    encode_value(&mut buf, value)?;
    Ok(bytes::Bytes::from(buf))
}
