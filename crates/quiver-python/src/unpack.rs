//! `unpack(buf, idx, hydration_hooks=None) -> (value, new_idx)`: one PackStream value from the
//! driver's receive buffer, decoded by Quiver's pull parser straight into Python objects.
//!
//! The driver passes its whole receive `bytearray` (pre-allocated, often longer than the message,
//! and grown for good by one big message) and the read offset. The decoder reads a private copy
//! of the part it needs, taken in windows: a small first one (most values are small) and bigger
//! ones as the value goes on, each starting at the token that did not fit, so every byte is
//! copied about once however large the buffer has grown. Copying (instead of borrowing the
//! bytearray for the whole call) is what keeps this sound: hydration hooks run Python code in the
//! middle of a value, and that code may mutate or resize the bytearray.

use std::cell::Cell;

use bytes::Bytes;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::critical_section::with_critical_section;
use pyo3::types::{IntoPyDict, PyByteArray, PyBytes, PyDict, PyFloat, PyList, PyString};
use quiver_packstream::{DecodeErrorKind, Decoder, TokenRef};

use crate::check_depth;
use crate::structure::Structure;

/// PackStream as the driver's `v1` (Bolt ≤ 6.0) or `v2` (Bolt 6.1, adds UUIDs) codec speaks it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version {
    V1,
    V2,
}

/// The UUID marker of PackStream v2 (a reserved marker in v1), followed by 16 big-endian bytes.
const UUID_MARKER: u8 = 0xE0;
const UUID_LEN: usize = 16;

/// The first window: most values (a record's fields, a summary's metadata) are smaller.
const FIRST_WINDOW: usize = 256;
/// Later windows double up to this size; only a single longer token needs a bigger one.
const MAX_WINDOW: usize = 256 * 1024;

pub(crate) fn unpack<'py>(
    version: Version,
    buf: &Bound<'py, PyAny>,
    idx: usize,
    hydration_hooks: Option<&Bound<'py, PyAny>>,
) -> PyResult<(Bound<'py, PyAny>, usize)> {
    let source = Source::new(buf)?;
    let hooks = match hydration_hooks {
        Some(hooks) if !hooks.is_none() => {
            let hooks = hooks
                .cast::<PyDict>()
                .map_err(|_| PyTypeError::new_err("hydration_hooks must be a dict (or None)"))?;
            // The pure-Python codec skips hooks when the dict is empty.
            (!hooks.is_empty()).then(|| hooks.clone())
        }
        _ => None,
    };
    let mut reader = Reader::new(version, source, idx, hooks);
    reader.refill();
    let value = reader.value(0);
    let end = reader.position();
    reader.finish();
    Ok((value?, end))
}

/// The buffer being read: the driver's `bytearray`, or `bytes`.
enum Source<'py> {
    ByteArray(Bound<'py, PyByteArray>),
    Bytes(Bound<'py, PyBytes>),
}

impl<'py> Source<'py> {
    fn new(buf: &Bound<'py, PyAny>) -> PyResult<Self> {
        if let Ok(array) = buf.cast::<PyByteArray>() {
            Ok(Source::ByteArray(array.clone()))
        } else if let Ok(bytes) = buf.cast::<PyBytes>() {
            Ok(Source::Bytes(bytes.clone()))
        } else {
            Err(PyTypeError::new_err(format!(
                "unpack needs a bytearray or bytes, not {}",
                buf.get_type().str()?
            )))
        }
    }

    /// The buffer's current length (a hook may resize a bytearray).
    fn len(&self) -> usize {
        match self {
            Source::ByteArray(array) => array.len(),
            Source::Bytes(bytes) => bytes.as_bytes().len(),
        }
    }

    /// Appends a copy of `from..to` to `out`, cut short where the buffer ends.
    fn copy(&self, from: usize, to: usize, out: &mut Vec<u8>) {
        fn range(data: &[u8], from: usize, to: usize, out: &mut Vec<u8>) {
            out.extend_from_slice(data.get(from..to.min(data.len())).unwrap_or_default());
        }
        match self {
            Source::Bytes(bytes) => range(bytes.as_bytes(), from, to, out),
            Source::ByteArray(array) => with_critical_section(array.as_any(), || {
                #[expect(
                    unsafe_code,
                    reason = "a bytearray's contents can only be read through a raw slice"
                )]
                // SAFETY: we are attached to the interpreter and inside a critical section on
                // `array` (a no-op with the GIL, a per-object lock without it), so no other thread
                // mutates or resizes it meanwhile; nothing in this closure runs Python code, so
                // this thread does not either; and the slice does not outlive the closure.
                let data = unsafe { array.as_bytes() };
                range(data, from, to, out)
            }),
        }
    }
}

thread_local! {
    /// The first window's buffer, kept from one call to the next: most calls decode a small
    /// value at the start of a long receive buffer, and this saves them an allocation.
    static SPARE_WINDOW: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// Strings up to this many bytes are looked up in the [`StringCache`].
const CACHED_STRING_MAX: usize = 64;
/// The cache's slots (a power of two).
const CACHE_SLOTS: usize = 512;
/// Strings decoded before the cache is made: small values never pay for it.
const CACHE_AFTER: usize = 32;

/// One Python `str` for each repeated short ASCII string within one `unpack` call.
///
/// Records repeat strings all the time (the keys of every map in a list of maps, labels, types,
/// categorical property values). Reusing the object saves an allocation and a UTF-8 decode per
/// repeat, and the memory of the copies; strings are immutable, so nothing can tell the
/// difference but `is`. A direct-mapped table compares the full bytes on every hit. A call whose
/// strings do not repeat turns the cache off after a few hundred misses.
struct StringCache<'py> {
    slots: Vec<Option<(u64, Bound<'py, PyString>)>>,
    seen: usize,
    hits: usize,
    misses: usize,
    off: bool,
}

impl<'py> StringCache<'py> {
    fn new() -> Self {
        StringCache {
            slots: Vec::new(),
            seen: 0,
            hits: 0,
            misses: 0,
            off: false,
        }
    }

    fn string(&mut self, py: Python<'py>, s: &str) -> Bound<'py, PyString> {
        if self.slots.is_empty() {
            // Not made yet (or turned off): the cheapest checks only.
            self.seen += 1;
            if self.off || self.seen < CACHE_AFTER {
                return PyString::new(py, s);
            }
            self.slots = (0..CACHE_SLOTS).map(|_| None).collect();
        }
        if s.len() > CACHED_STRING_MAX || s.is_empty() || !s.is_ascii() {
            return PyString::new(py, s);
        }
        let hash = fx_hash(s.as_bytes());
        // The slot count is a power of two; the high bits of the hash mix best.
        let Some(slot) = self.slots.get_mut((hash >> 55) as usize % CACHE_SLOTS) else {
            return PyString::new(py, s);
        };
        if let Some((slot_hash, cached)) = slot {
            // ASCII strings are stored as their bytes: `to_str` is a pointer read, no copy.
            if *slot_hash == hash && cached.to_str().is_ok_and(|c| c == s) {
                self.hits += 1;
                return cached.clone();
            }
        }
        let fresh = PyString::new(py, s);
        *slot = Some((hash, fresh.clone()));
        self.misses += 1;
        if self.misses >= 256 && self.misses > 4 * self.hits {
            self.off = true;
            self.slots = Vec::new();
        }
        fresh
    }
}

/// A fast hash of a short byte string (the rustc "Fx" hash, a word at a time).
fn fx_hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    let mut hash = bytes.len() as u64;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
        hash = (hash.rotate_left(5) ^ word).wrapping_mul(K);
    }
    let mut last = [0u8; 8];
    let rest = words.remainder();
    last[..rest.len()].copy_from_slice(rest);
    (hash.rotate_left(5) ^ u64::from_le_bytes(last)).wrapping_mul(K)
}

/// One step of decoding: a finished scalar, or the header of a container whose parts follow.
enum Step<'py> {
    Scalar(Bound<'py, PyAny>),
    List(usize),
    Map(usize),
    Structure(u8, usize),
}

/// A pull parser over windows of the source, and what the values it builds need.
struct Reader<'py> {
    py: Python<'py>,
    version: Version,
    source: Source<'py>,
    hooks: Option<Bound<'py, PyDict>>,
    /// The parser over the current window.
    decoder: Decoder,
    /// Where the window starts in the source.
    base: usize,
    /// Where the window ends in the source.
    window_end: usize,
    /// The size of the next window.
    next_window: usize,
    strings: StringCache<'py>,
}

impl<'py> Reader<'py> {
    fn new(
        version: Version,
        source: Source<'py>,
        idx: usize,
        hooks: Option<Bound<'py, PyDict>>,
    ) -> Self {
        let py = match &source {
            Source::ByteArray(array) => array.py(),
            Source::Bytes(bytes) => bytes.py(),
        };
        Reader {
            py,
            version,
            source,
            hooks,
            decoder: Decoder::new(Bytes::new()),
            base: idx,
            window_end: idx,
            next_window: FIRST_WINDOW,
            strings: StringCache::new(),
        }
    }

    /// Keeps a first window's buffer for the next call.
    fn finish(&mut self) {
        let window = std::mem::replace(&mut self.decoder, Decoder::new(Bytes::new())).into_input();
        if window.len() == FIRST_WINDOW {
            // No copy: the window was made from a Vec and never sliced.
            let buffer = Vec::from(window);
            if buffer.capacity() == FIRST_WINDOW {
                SPARE_WINDOW.set(buffer);
            }
        }
    }

    /// The position after what has been read, in the source.
    fn position(&self) -> usize {
        self.base + self.decoder.position()
    }

    /// Replaces the window by one starting at the current position (the token that did not fit)
    /// and longer than the last. Returns `false` when the source has nothing more to give.
    fn refill(&mut self) -> bool {
        let from = self.position();
        let source_len = self.source.len();
        if self.window_end >= source_len {
            return false;
        }
        let mut size = self.next_window;
        if from == self.base && self.window_end > self.base {
            // One token longer than the whole last window: at least double it.
            size = size.max(2 * (self.window_end - self.base));
        }
        self.next_window = (self.next_window * 2).min(MAX_WINDOW);
        let to = from.saturating_add(size).min(source_len);
        let mut window = if to - from == FIRST_WINDOW {
            // Full capacity, so `Bytes::from` keeps the buffer as it is (see `finish`).
            let mut spare = SPARE_WINDOW.take();
            spare.clear();
            spare.reserve_exact(FIRST_WINDOW);
            spare
        } else {
            Vec::with_capacity(to - from)
        };
        self.source.copy(from, to, &mut window);
        self.decoder = Decoder::new(Bytes::from(window));
        self.base = from;
        self.window_end = to;
        true
    }

    /// The next token as a Python scalar or a container header, refilling the window as needed.
    fn step(&mut self) -> PyResult<Step<'py>> {
        let py = self.py;
        loop {
            let error = match self.decoder.next_token_ref() {
                Ok(token) => {
                    return Ok(match token {
                        TokenRef::Null => Step::Scalar(py.None().into_bound(py)),
                        TokenRef::Boolean(b) => {
                            Step::Scalar(pyo3::types::PyBool::new(py, b).to_owned().into_any())
                        }
                        TokenRef::Integer(i) => Step::Scalar(i.into_pyobject(py)?.into_any()),
                        TokenRef::Float(f) => Step::Scalar(PyFloat::new(py, f).into_any()),
                        TokenRef::String(s) => Step::Scalar(self.strings.string(py, s).into_any()),
                        TokenRef::Bytes(b) => Step::Scalar(PyBytes::new(py, b).into_any()),
                        TokenRef::List { len } => Step::List(len),
                        TokenRef::Map { len } => Step::Map(len),
                        TokenRef::Structure { tag, len } => Step::Structure(tag, len),
                    });
                }
                Err(error) => error,
            };
            match error.kind {
                DecodeErrorKind::UnexpectedEnd => {}
                DecodeErrorKind::ReservedMarker(UUID_MARKER) if self.version == Version::V2 => {
                    if let Some(uuid) = self.take_uuid() {
                        return Ok(Step::Scalar(uuid_object(py, uuid)?));
                    }
                }
                DecodeErrorKind::ReservedMarker(marker) => {
                    return Err(PyValueError::new_err(format!(
                        "Unknown PackStream marker {marker:02X}"
                    )));
                }
                DecodeErrorKind::InvalidUtf8 => return Err(self.invalid_utf8()),
                _ => {
                    return Err(PyValueError::new_err(format!(
                        "invalid PackStream data: {error}"
                    )));
                }
            }
            // The token is cut off at the end of the window.
            if !self.refill() {
                return Err(PyValueError::new_err(format!(
                    "PackStream data ends inside the value at byte {} (truncated message or wrong size field)",
                    self.position()
                )));
            }
        }
    }

    /// A UUID at the current position, if the window holds all of it; steps over it.
    fn take_uuid(&mut self) -> Option<u128> {
        let raw: [u8; UUID_LEN] = self
            .decoder
            .remaining_input()
            .get(1..=UUID_LEN)?
            .try_into()
            .ok()?;
        let rest = self.decoder.remaining_bytes().slice(1 + UUID_LEN..);
        self.base = self.position() + 1 + UUID_LEN;
        self.decoder = Decoder::new(rest);
        Some(u128::from_be_bytes(raw))
    }

    /// The `UnicodeDecodeError` Python's own UTF-8 codec raises for the string at the current
    /// position (the pure-Python codec decodes strings with it).
    #[cold]
    fn invalid_utf8(&self) -> PyErr {
        let input = self.decoder.remaining_input();
        let (len, from): (usize, usize) = match input {
            [marker @ 0x80..=0x8F, ..] => (usize::from(marker & 0x0F), 1),
            [0xD0, len, ..] => (usize::from(*len), 2),
            [0xD1, a, b, ..] => (usize::from(u16::from_be_bytes([*a, *b])), 3),
            [0xD2, a, b, c, d, ..] => (u32::from_be_bytes([*a, *b, *c, *d]) as usize, 5),
            _ => (0, 0),
        };
        let payload = input
            .get(from..from.saturating_add(len))
            .unwrap_or_default();
        match PyBytes::new(self.py, payload).call_method1("decode", ("utf-8",)) {
            Err(error) => error,
            Ok(_) => PyValueError::new_err("PackStream string is not valid UTF-8"),
        }
    }

    /// Decodes one whole value. `depth` is the number of containers around it.
    fn value(&mut self, depth: usize) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        Ok(match self.step()? {
            Step::Scalar(value) => value,
            Step::List(len) => {
                check_depth(depth)?;
                self.list(len, depth + 1)?.into_any()
            }
            Step::Map(len) => {
                check_depth(depth)?;
                let dict = PyDict::new(py);
                for _ in 0..len {
                    // Keys are decoded as any value, as the pure-Python codec does (PackStream
                    // keys are strings; an unhashable key fails in `set_item` with TypeError).
                    let key = self.value(depth + 1)?;
                    let value = self.value(depth + 1)?;
                    dict.set_item(key, value)?;
                }
                dict.into_any()
            }
            Step::Structure(tag, len) => {
                check_depth(depth)?;
                let mut fields = Vec::with_capacity(len);
                for _ in 0..len {
                    fields.push(self.value(depth + 1)?.unbind());
                }
                let structure = Bound::new(py, Structure { tag, fields })?.into_any();
                self.hydrate(structure)?
            }
        })
    }

    /// A list of `len` values. Made at its final size when the input can hold that many values
    /// (each takes at least one byte), so a lying header allocates nothing big.
    fn list(&mut self, len: usize, depth: usize) -> PyResult<Bound<'py, PyList>> {
        let available = self.source.len().saturating_sub(self.position());
        if len > available {
            // Cannot be complete: decode what there is, which ends in an error.
            let mut items = Vec::with_capacity(available.min(1024));
            for _ in 0..len {
                items.push(self.value(depth)?);
            }
            return PyList::new(self.py, items);
        }
        let mut failure = None;
        let py = self.py;
        let items = ExactLen {
            remaining: len,
            next: || {
                if failure.is_none() {
                    match self.value(depth) {
                        Ok(value) => return value,
                        Err(error) => failure = Some(error),
                    }
                }
                py.None().into_bound(py)
            },
        };
        let list = PyList::new(py, items)?;
        match failure {
            Some(error) => Err(error),
            None => Ok(list),
        }
    }

    /// The hydration hook's result for a structure (looked up by the structure's exact type, as
    /// the pure-Python codec does), or the structure itself.
    fn hydrate(&self, structure: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let Some(hooks) = &self.hooks else {
            return Ok(structure);
        };
        match hooks.get_item(structure.get_type())? {
            Some(hook) if hook.is_truthy()? => hook.call1((structure,)),
            _ => Ok(structure),
        }
    }
}

/// An iterator that yields exactly `remaining` values from `next` (so `PyList::new` can fill a
/// list made at its final size).
struct ExactLen<F> {
    remaining: usize,
    next: F,
}

impl<'py, F: FnMut() -> Bound<'py, PyAny>> Iterator for ExactLen<F> {
    type Item = Bound<'py, PyAny>;

    fn next(&mut self) -> Option<Self::Item> {
        self.remaining = self.remaining.checked_sub(1)?;
        Some((self.next)())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<'py, F: FnMut() -> Bound<'py, PyAny>> ExactSizeIterator for ExactLen<F> {}

fn uuid_object(py: Python<'_>, uuid: u128) -> PyResult<Bound<'_, PyAny>> {
    crate::pack::uuid_class(py)?.call((), Some(&[("int", uuid)].into_py_dict(py)?))
}
