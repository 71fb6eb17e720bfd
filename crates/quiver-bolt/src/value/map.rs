//! [`Map`]: the ordered, string-keyed dictionary of Bolt values.

use std::collections::{HashMap, HashSet};
use std::fmt;

use quiver_packstream::PackStr;

use super::Value;

/// An ordered dictionary of [`Value`]s with string keys (a Cypher map, node properties,
/// message metadata, query parameters).
///
/// Entries keep their insertion order. Keys are unique: [`Map::insert`] replaces the value of an
/// existing key in place. When decoding, a repeated key keeps the position of its first occurrence
/// and the value of its last one ("last wins", as in the official drivers).
///
/// Equality ignores order: two maps are equal when they have the same keys with equal values.
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
        self.entries
            .iter()
            .find(|(k, _)| *k == *key)
            .map(|(_, v)| v)
    }

    /// The value stored under `key`, mutably.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.entries
            .iter_mut()
            .find(|(k, _)| *k == *key)
            .map(|(_, v)| v)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, _)| *k == *key)
    }

    /// Stores `value` under `key`. An existing key keeps its position and its old value is
    /// returned; a new key is appended.
    pub fn insert(&mut self, key: impl Into<PackStr>, value: impl Into<Value>) -> Option<Value> {
        let key = key.into();
        let value = value.into();
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some((_, slot)) => Some(std::mem::replace(slot, value)),
            None => {
                self.entries.push((key, value));
                None
            }
        }
    }

    /// Removes `key` and returns its value; the other entries keep their order.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let index = self.entries.iter().position(|(k, _)| *k == *key)?;
        Some(self.entries.remove(index).1)
    }

    /// The entries in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&PackStr, &Value)> + DoubleEndedIterator {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The keys in order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &PackStr> + DoubleEndedIterator {
        self.entries.iter().map(|(k, _)| k)
    }

    /// The values in order.
    pub fn values(&self) -> impl ExactSizeIterator<Item = &Value> + DoubleEndedIterator {
        self.entries.iter().map(|(_, v)| v)
    }

    /// The values in order, mutably.
    pub fn values_mut(
        &mut self,
    ) -> impl ExactSizeIterator<Item = &mut Value> + DoubleEndedIterator {
        self.entries.iter_mut().map(|(_, v)| v)
    }

    /// Builds a map from decoded entries with "last value wins, first position kept" for repeated
    /// keys. Small maps use a quadratic scan (cheapest for the usual handful of keys); large ones
    /// a hash index, so hostile input with many keys stays linear.
    pub(crate) fn from_decoded(entries: Vec<(PackStr, Value)>) -> Self {
        const LINEAR_LIMIT: usize = 16;
        if entries.len() <= LINEAR_LIMIT {
            let has_duplicate = entries
                .iter()
                .enumerate()
                .any(|(i, (k, _))| entries.iter().skip(i + 1).any(|(other, _)| other == k));
            if !has_duplicate {
                return Map { entries };
            }
            let mut map = Map::with_capacity(entries.len());
            for (k, v) in entries {
                map.insert(k, v);
            }
            return map;
        }
        let has_duplicate = {
            let mut seen: HashSet<&str> = HashSet::with_capacity(entries.len());
            entries.iter().any(|(k, _)| !seen.insert(k.as_str()))
        };
        if !has_duplicate {
            return Map { entries };
        }
        let mut index: HashMap<PackStr, usize> = HashMap::with_capacity(entries.len());
        let mut out: Vec<(PackStr, Value)> = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            match index.get(&k) {
                Some(&i) => {
                    if let Some(slot) = out.get_mut(i) {
                        slot.1 = v;
                    }
                }
                None => {
                    index.insert(k.clone(), out.len());
                    out.push((k, v));
                }
            }
        }
        Map { entries: out }
    }
}

impl PartialEq for Map {
    fn eq(&self, other: &Map) -> bool {
        if self.len() != other.len() {
            return false;
        }
        // Fast path: same order, the usual case after a round trip.
        if self
            .entries
            .iter()
            .zip(&other.entries)
            .all(|((ka, va), (kb, vb))| ka == kb && va == vb)
        {
            return true;
        }
        self.entries
            .iter()
            .all(|(k, v)| other.get(k.as_str()) == Some(v))
    }
}

impl fmt::Debug for Map {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl IntoIterator for Map {
    type Item = (PackStr, Value);
    type IntoIter = std::vec::IntoIter<(PackStr, Value)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a PackStr, &'a Value);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (PackStr, Value)>,
        fn(&'a (PackStr, Value)) -> (&'a PackStr, &'a Value),
    >;

    fn into_iter(self) -> Self::IntoIter {
        fn split(entry: &(PackStr, Value)) -> (&PackStr, &Value) {
            (&entry.0, &entry.1)
        }
        self.entries.iter().map(split)
    }
}

impl<K: Into<PackStr>, V: Into<Value>> FromIterator<(K, V)> for Map {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = Map::new();
        map.extend(iter);
        map
    }
}

impl<K: Into<PackStr>, V: Into<Value>> Extend<(K, V)> for Map {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}
