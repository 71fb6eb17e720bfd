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
//! * [`Decoder`]: a pull parser ([`Decoder::next_token`], typed `read_*` helpers,
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
#![warn(missing_docs)]

mod decode;
pub mod encode;
mod map;
mod marker;
mod packstr;
mod value;

pub use decode::{
    DecodeError, DecodeErrorKind, DecodeLimits, Decoder, Token, decode, decode_with_limits,
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
