//! Bolt chunking: messages travel as chunks of `u16` length + bytes, ended by `00 00`.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::error::BoltError;

/// The largest chunk body.
pub const MAX_CHUNK: usize = 0xFFFF;

/// Appends `message` to `out` as chunks of at most [`MAX_CHUNK`] bytes plus the end marker.
pub fn write_chunked(message: &[u8], out: &mut BytesMut) {
    out.reserve(message.len() + 2 * (message.len() / MAX_CHUNK + 2));
    for chunk in message.chunks(MAX_CHUNK) {
        out.put_u16(chunk.len() as u16); // ≤ MAX_CHUNK by construction
        out.put_slice(chunk);
    }
    out.put_u16(0);
}

/// Reassembles messages from a byte stream split anywhere.
///
/// Feed bytes with [`extend`](Self::extend), take complete messages with
/// [`next_message`](Self::next_message) (`Ok(None)` = need more bytes). Empty chunks between
/// messages (NOOP keep-alives) are skipped. A message of one chunk is handed out without
/// copying (a slice of the input buffer).
#[derive(Debug, Clone)]
pub struct Dechunker {
    input: BytesMut,
    /// The first chunk of the message being assembled (kept uncopied in case it is the only one).
    first: Option<Bytes>,
    /// Chunks 2.. of the message being assembled (plus a copy of the first).
    assembled: BytesMut,
    max_message_size: usize,
}

impl Dechunker {
    /// A dechunker refusing messages over `max_message_size` bytes.
    pub fn new(max_message_size: usize) -> Self {
        Dechunker {
            input: BytesMut::new(),
            first: None,
            assembled: BytesMut::new(),
            max_message_size,
        }
    }

    /// Appends received bytes.
    pub fn extend(&mut self, data: &[u8]) {
        self.input.extend_from_slice(data);
    }

    /// Bytes received but not yet part of a complete message.
    pub fn buffered(&self) -> usize {
        self.input.len() + self.first.as_ref().map_or(0, Bytes::len) + self.assembled.len()
    }

    /// Whether a message is partially received (bytes after the last complete message).
    pub fn is_mid_message(&self) -> bool {
        self.buffered() > 0
    }

    /// Takes raw (unchunked) bytes from the front of the input: used for the handshake reply.
    pub(crate) fn raw_input(&mut self) -> &mut BytesMut {
        &mut self.input
    }

    /// The next complete message, `Ok(None)` if more bytes are needed.
    pub fn next_message(&mut self) -> Result<Option<Bytes>, BoltError> {
        loop {
            let Some(header) = self.input.get(..2) else {
                return Ok(None);
            };
            let len = usize::from(u16::from_be_bytes([header[0], header[1]]));
            if len == 0 {
                self.input.advance(2);
                if let Some(first) = self.first.take() {
                    return Ok(Some(first));
                }
                if !self.assembled.is_empty() {
                    return Ok(Some(self.assembled.split().freeze()));
                }
                continue; // NOOP chunk between messages
            }
            // Refused from the chunk header, without waiting for (and buffering) its bytes.
            let so_far = self.first.as_ref().map_or(0, Bytes::len) + self.assembled.len();
            if so_far + len > self.max_message_size {
                return Err(BoltError::MessageTooLarge {
                    limit: self.max_message_size,
                });
            }
            if self.input.len() < 2 + len {
                return Ok(None);
            }
            self.input.advance(2);
            let chunk = self.input.split_to(len).freeze();
            if let Some(first) = self.first.take() {
                self.assembled.reserve(first.len() + chunk.len());
                self.assembled.extend_from_slice(&first);
                self.assembled.extend_from_slice(&chunk);
            } else if self.assembled.is_empty() {
                self.first = Some(chunk);
            } else {
                self.assembled.extend_from_slice(&chunk);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_any_split() {
        let big = vec![7u8; 70_000];
        let mut wire = BytesMut::new();
        wire.put_u16(0); // NOOP before
        write_chunked(b"abc", &mut wire);
        wire.put_u16(0); // NOOP between
        write_chunked(&big, &mut wire);
        let n = wire.len();
        for split in (0..n).filter(|s| *s < 80 || *s > n - 80 || s % 997 == 0) {
            let mut d = Dechunker::new(1 << 20);
            let mut got = Vec::new();
            for part in [&wire[..split], &wire[split..]] {
                d.extend(part);
                while let Some(m) = d.next_message().unwrap() {
                    got.push(m);
                }
            }
            assert_eq!(got.len(), 2, "split {split}");
            assert_eq!(&got[0][..], b"abc");
            assert_eq!(&got[1][..], &big[..]);
            assert!(!d.is_mid_message());
        }
    }

    #[test]
    fn too_large() {
        let mut wire = BytesMut::new();
        write_chunked(&[1u8; 100], &mut wire);
        let mut d = Dechunker::new(99);
        d.extend(&wire);
        assert!(matches!(
            d.next_message(),
            Err(BoltError::MessageTooLarge { limit: 99 })
        ));
    }
}
