//! Bookmarks and the bookmark manager: causal consistency across sessions.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

/// A set of bookmarks (opaque strings naming transactions the server must have applied).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bookmarks(BTreeSet<String>);

impl Bookmarks {
    /// No bookmarks.
    pub fn new() -> Self {
        Bookmarks::default()
    }
    /// The bookmarks as strings.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
    /// Number of bookmarks.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Add all of `other`.
    pub fn extend(&mut self, other: &Bookmarks) {
        self.0.extend(other.0.iter().cloned());
    }
    /// As a list, for a request.
    pub fn to_vec(&self) -> Vec<String> {
        self.0.iter().cloned().collect()
    }
}

impl<S: Into<String>> FromIterator<S> for Bookmarks {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        Bookmarks(
            iter.into_iter()
                .map(Into::into)
                .filter(|b: &String| !b.is_empty())
                .collect(),
        )
    }
}

/// Keeps the bookmarks of a group of sessions so that each sees the others' writes.
///
/// Sessions configured with the same manager send its bookmarks with every transaction and hand
/// it the new bookmark after each commit: the previous bookmarks they sent are replaced by it.
/// `execute_query` uses one shared by the whole driver, so consecutive calls are causally
/// consistent.
#[derive(Clone, Default)]
pub struct BookmarkManager {
    inner: Arc<Mutex<BTreeSet<String>>>,
}

impl fmt::Debug for BookmarkManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BookmarkManager")
            .field(&self.bookmarks())
            .finish()
    }
}

impl BookmarkManager {
    /// An empty manager.
    pub fn new() -> Self {
        BookmarkManager::default()
    }

    /// A manager starting from `initial`.
    pub fn with_initial(initial: Bookmarks) -> Self {
        BookmarkManager {
            inner: Arc::new(Mutex::new(initial.0)),
        }
    }

    /// The current bookmarks.
    pub fn bookmarks(&self) -> Bookmarks {
        // A panic while holding this lock cannot leave the set half-updated: use it anyway.
        Bookmarks(
            self.inner
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        )
    }

    /// A transaction that started with `previous` produced `new`: replace the former by the latter.
    pub fn update(&self, previous: &Bookmarks, new: &Bookmarks) {
        if new.is_empty() {
            return;
        }
        let mut set = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        for bookmark in previous.iter() {
            set.remove(bookmark);
        }
        set.extend(new.0.iter().cloned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_replaces_the_bookmarks_a_transaction_started_from() {
        let manager = BookmarkManager::with_initial(["a", "b"].into_iter().collect());
        let seen = manager.bookmarks();
        manager.update(&seen, &["c"].into_iter().collect());
        assert_eq!(manager.bookmarks(), ["c"].into_iter().collect());
        // A concurrent transaction that started from nothing only adds.
        manager.update(&Bookmarks::new(), &["d"].into_iter().collect());
        assert_eq!(manager.bookmarks().len(), 2);
        manager.update(&Bookmarks::new(), &Bookmarks::new());
        assert_eq!(manager.bookmarks().len(), 2);
        let empty: Bookmarks = [""].into_iter().collect();
        assert!(empty.is_empty());
    }
}
