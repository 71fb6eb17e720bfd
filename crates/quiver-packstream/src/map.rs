//! [`Map`]: a PackStream map with string keys that keeps insertion order.

use std::collections::HashMap;
use std::fmt;

use bytes::Bytes;

use crate::{PackStr, Value};

/// A PackStream map: string keys, insertion order kept, each key at most once.
///
/// Stored as a vector of entries: Bolt maps are small (metadata, properties), so linear lookup
/// beats hashing and keeps the order the server sent.
///
/// **Duplicate keys:** inserting an existing key replaces its value in place (the key keeps its
/// first position). Decoding follows the same rule, so when the input repeats a key the
/// **last value wins**, as in the official Neo4j drivers.
///
/// Equality ignores order: two maps are equal when they hold the same keys with equal values.
#[derive(Clone, Default)]
pub struct Map {
    entries: Vec<(PackStr, Value)>,
}

impl Map {
    /// An empty map.
    pub fn new() -> Self {
        Map {
            entries: Vec::new(),
        }
    }

    /// An empty map with room for `capacity` entries.
    pub fn with_capacity(capacity: usize) -> Self {
        Map {
            entries: Vec::with_capacity(capacity),
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value stored under `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.position(key)
            .and_then(|i| self.entries.get(i))
            .map(|(_, v)| v)
    }

    /// A mutable reference to the value stored under `key`.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        match self.position(key) {
            Some(i) => self.entries.get_mut(i).map(|(_, v)| v),
            None => None,
        }
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Inserts `value` under `key`. If the key exists, its value is replaced in place (the entry
    /// keeps its position) and the old value is returned.
    pub fn insert(&mut self, key: impl Into<PackStr>, value: Value) -> Option<Value> {
        let key = key.into();
        match self.position(key.as_bytes()) {
            Some(i) => self
                .entries
                .get_mut(i)
                .map(|(_, slot)| std::mem::replace(slot, value)),
            None => {
                self.entries.push((key, value));
                None
            }
        }
    }

    /// Removes `key` and returns its value, keeping the order of the other entries.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.position(key)?;
        Some(self.entries.remove(i).1)
    }

    /// Entries in insertion order.
    pub fn iter(&self) -> Iter<'_> {
        Iter(self.entries.iter())
    }

    /// Keys in insertion order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &PackStr> + DoubleEndedIterator + '_ {
        self.entries.iter().map(|(k, _)| k)
    }

    /// Values in insertion order.
    pub fn values(&self) -> impl ExactSizeIterator<Item = &Value> + DoubleEndedIterator + '_ {
        self.entries.iter().map(|(_, v)| v)
    }

    /// Values in insertion order, mutably.
    pub fn values_mut(
        &mut self,
    ) -> impl ExactSizeIterator<Item = &mut Value> + DoubleEndedIterator + '_ {
        self.entries.iter_mut().map(|(_, v)| v)
    }

    fn position(&self, key: impl AsRef<[u8]>) -> Option<usize> {
        let key = key.as_ref();
        self.entries
            .iter()
            .position(|(k, _)| k.as_bytes().as_ref() == key)
    }

    /// Builds a map from entries, applying "last value wins, first position kept" for repeated
    /// keys (the same result as inserting them one by one).
    pub(crate) fn from_entries_last_wins(entries: Vec<(PackStr, Value)>) -> Self {
        let mut map = Map { entries };
        map.dedup_last_wins();
        map
    }

    /// Removes repeated keys: the last value wins, the key keeps its first position. Small maps
    /// use a linear scan; large ones a hash index, so hostile input with tens of thousands of
    /// keys stays linear-time.
    fn dedup_last_wins(&mut self) {
        const LINEAR_LIMIT: usize = 16;
        let n = self.entries.len();
        if n <= 1 {
            return;
        }
        if n <= LINEAR_LIMIT {
            let all_distinct = (1..n).all(|i| {
                let (before, rest) = self.entries.split_at(i);
                rest.first()
                    .is_none_or(|(k, _)| before.iter().all(|(b, _)| b != k))
            });
            if all_distinct {
                return;
            }
        }
        let entries = std::mem::take(&mut self.entries);
        let mut index: HashMap<Bytes, usize> = HashMap::with_capacity(n);
        let mut out: Vec<(PackStr, Value)> = Vec::with_capacity(n);
        for (k, v) in entries {
            match index.get(k.as_bytes()) {
                Some(&i) => {
                    if let Some(slot) = out.get_mut(i) {
                        slot.1 = v;
                    }
                }
                None => {
                    index.insert(k.as_bytes().clone(), out.len());
                    out.push((k, v));
                }
            }
        }
        self.entries = out;
    }

    /// Order-insensitive comparison with a custom value equality.
    pub(crate) fn eq_by(&self, other: &Map, value_eq: impl Fn(&Value, &Value) -> bool) -> bool {
        if self.len() != other.len() {
            return false;
        }
        // Fast path: same order (the usual case after a round trip).
        if self
            .entries
            .iter()
            .zip(&other.entries)
            .all(|((ka, va), (kb, vb))| ka == kb && value_eq(va, vb))
        {
            return true;
        }
        self.entries
            .iter()
            .all(|(k, v)| other.get(k.as_str()).is_some_and(|w| value_eq(v, w)))
    }
}

impl PartialEq for Map {
    fn eq(&self, other: &Self) -> bool {
        self.eq_by(other, |a, b| a == b)
    }
}

impl fmt::Debug for Map {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Borrowing iterator over a [`Map`]'s entries, in insertion order.
#[derive(Clone, Debug)]
pub struct Iter<'a>(std::slice::Iter<'a, (PackStr, Value)>);

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a PackStr, &'a Value);
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (k, v))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(k, v)| (k, v))
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// Owning iterator over a [`Map`]'s entries, in insertion order.
#[derive(Debug)]
pub struct IntoIter(std::vec::IntoIter<(PackStr, Value)>);

impl Iterator for IntoIter {
    type Item = (PackStr, Value);
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl DoubleEndedIterator for IntoIter {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back()
    }
}

impl ExactSizeIterator for IntoIter {}

impl IntoIterator for Map {
    type Item = (PackStr, Value);
    type IntoIter = IntoIter;
    fn into_iter(self) -> IntoIter {
        IntoIter(self.entries.into_iter())
    }
}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a PackStr, &'a Value);
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl<K: Into<PackStr>> FromIterator<(K, Value)> for Map {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> Self {
        let mut map = Map::new();
        map.extend(iter);
        map
    }
}

/// Same result as calling [`Map::insert`] for each pair in turn (repeated keys: the last value
/// wins, the first position is kept), in linear time.
impl<K: Into<PackStr>> Extend<(K, Value)> for Map {
    fn extend<I: IntoIterator<Item = (K, Value)>>(&mut self, iter: I) {
        let before = self.entries.len();
        self.entries
            .extend(iter.into_iter().map(|(k, v)| (k.into(), v)));
        if self.entries.len() != before {
            self.dedup_last_wins();
        }
    }
}
