//! [`PackStr`]: a cheaply clonable, zero-copy UTF-8 string backed by [`Bytes`].

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use bytes::Bytes;

/// A UTF-8 string backed by [`Bytes`], so decoded strings can share the input buffer.
///
/// Cloning is cheap (a reference-count increment). The bytes are guaranteed to be valid
/// UTF-8: every constructor checks or starts from a `str`.
///
/// Equality, ordering and hashing agree with those of the `str` it holds, so a `PackStr` can be
/// looked up by `&str` in hash maps and ordered collections.
#[derive(Clone, Default)]
pub struct PackStr(Bytes);

impl PackStr {
    /// Wraps a static string without copying it.
    pub const fn from_static(s: &'static str) -> Self {
        PackStr(Bytes::from_static(s.as_bytes()))
    }

    /// Checks that `bytes` is UTF-8 and wraps it without copying.
    pub fn from_utf8(bytes: Bytes) -> Result<Self, std::str::Utf8Error> {
        std::str::from_utf8(&bytes)?;
        Ok(PackStr(bytes))
    }

    /// Wraps bytes the caller has already checked to be UTF-8.
    pub(crate) fn from_validated(bytes: Bytes) -> Self {
        debug_assert!(std::str::from_utf8(&bytes).is_ok());
        PackStr(bytes)
    }

    /// The string slice.
    ///
    /// The crate forbids `unsafe`, so this re-runs the (fast) UTF-8 check on every call;
    /// the check cannot fail because every constructor validated the bytes already.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The UTF-8 bytes.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// Unwraps the UTF-8 bytes.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// Length in bytes (not characters).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&str> for PackStr {
    fn from(s: &str) -> Self {
        PackStr(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<String> for PackStr {
    fn from(s: String) -> Self {
        PackStr(Bytes::from(s.into_bytes()))
    }
}

impl From<&String> for PackStr {
    fn from(s: &String) -> Self {
        PackStr::from(s.as_str())
    }
}

impl From<PackStr> for String {
    fn from(s: PackStr) -> Self {
        s.as_str().to_owned()
    }
}

impl Deref for PackStr {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for PackStr {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for PackStr {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Borrow<str> for PackStr {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

// Comparisons work on the bytes: for UTF-8, byte order equals code-point order, so this agrees
// with `str` without re-validating.
impl PartialEq for PackStr {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for PackStr {}

impl PartialEq<str> for PackStr {
    fn eq(&self, other: &str) -> bool {
        self.0.as_ref() == other.as_bytes()
    }
}

impl PartialEq<&str> for PackStr {
    fn eq(&self, other: &&str) -> bool {
        self.0.as_ref() == other.as_bytes()
    }
}

impl PartialEq<String> for PackStr {
    fn eq(&self, other: &String) -> bool {
        self.0.as_ref() == other.as_bytes()
    }
}

impl PartialEq<PackStr> for str {
    fn eq(&self, other: &PackStr) -> bool {
        other == self
    }
}

impl PartialEq<PackStr> for &str {
    fn eq(&self, other: &PackStr) -> bool {
        other == *self
    }
}

impl PartialOrd for PackStr {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PackStr {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.as_ref().cmp(other.0.as_ref())
    }
}

impl Hash for PackStr {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Must hash exactly like `str` because of `Borrow<str>`.
        self.as_str().hash(state);
    }
}

impl fmt::Debug for PackStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for PackStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}
