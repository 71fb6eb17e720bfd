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

/// Called for the manager's bookmarks: what it returns is added to them (e.g. bookmarks of
/// another process). Runs on the task that starts a transaction, so keep it quick.
pub type BookmarksSupplier = dyn Fn() -> Bookmarks + Send + Sync;

/// Called with the manager's new bookmark set after each update (e.g. to persist it). Runs on
/// the task that committed, so keep it quick.
pub type BookmarksConsumer = dyn Fn(&Bookmarks) + Send + Sync;

struct ManagerState {
    bookmarks: Mutex<BTreeSet<String>>,
    supplier: Option<Box<BookmarksSupplier>>,
    consumer: Option<Box<BookmarksConsumer>>,
}

/// Keeps the bookmarks of a group of sessions so that each sees the others' writes.
///
/// Sessions configured with the same manager send its bookmarks with every transaction and hand
/// it the new bookmark after each commit: the previous bookmarks they sent are replaced by it.
/// `execute_query` uses one shared by the whole driver, so consecutive calls are causally
/// consistent. A manager made with [`with_callbacks`](Self::with_callbacks) also asks a
/// supplier for extra bookmarks and tells a consumer about every new set, like the official
/// drivers' `bookmark_manager(initial_bookmarks, bookmarks_supplier, bookmarks_consumer)`.
#[derive(Clone)]
pub struct BookmarkManager {
    inner: Arc<ManagerState>,
}

impl Default for BookmarkManager {
    fn default() -> Self {
        BookmarkManager::with_callbacks(Bookmarks::new(), None, None)
    }
}

impl fmt::Debug for BookmarkManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BookmarkManager")
            .field("bookmarks", &self.own_bookmarks())
            .field("supplier", &self.inner.supplier.is_some())
            .field("consumer", &self.inner.consumer.is_some())
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
        BookmarkManager::with_callbacks(initial, None, None)
    }

    /// A manager starting from `initial` whose [`bookmarks`](Self::bookmarks) also include what
    /// `supplier` returns, and which calls `consumer` with its new bookmark set after every
    /// [`update`](Self::update) that changed it.
    ///
    /// ```
    /// use quiver_driver::{BookmarkManager, Bookmarks};
    ///
    /// let manager = BookmarkManager::with_callbacks(
    ///     Bookmarks::new(),
    ///     Some(Box::new(|| ["from-elsewhere"].into_iter().collect())),
    ///     Some(Box::new(|bookmarks: &Bookmarks| println!("now {} bookmarks", bookmarks.len()))),
    /// );
    /// assert_eq!(manager.bookmarks().len(), 1);
    /// ```
    pub fn with_callbacks(
        initial: Bookmarks,
        supplier: Option<Box<BookmarksSupplier>>,
        consumer: Option<Box<BookmarksConsumer>>,
    ) -> Self {
        BookmarkManager {
            inner: Arc::new(ManagerState {
                bookmarks: Mutex::new(initial.0),
                supplier,
                consumer,
            }),
        }
    }

    fn own_bookmarks(&self) -> Bookmarks {
        // A panic while holding this lock cannot leave the set half-updated: use it anyway.
        Bookmarks(
            self.inner
                .bookmarks
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        )
    }

    /// The current bookmarks (with the supplier's, if there is one).
    pub fn bookmarks(&self) -> Bookmarks {
        let mut bookmarks = self.own_bookmarks();
        if let Some(supplier) = &self.inner.supplier {
            bookmarks.extend(&supplier());
        }
        bookmarks
    }

    /// A transaction that started with `previous` produced `new`: replace the former by the
    /// latter (and tell the consumer, if there is one).
    pub fn update(&self, previous: &Bookmarks, new: &Bookmarks) {
        if new.is_empty() {
            return;
        }
        let current = {
            let mut set = self
                .inner
                .bookmarks
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            for bookmark in previous.iter() {
                set.remove(bookmark);
            }
            set.extend(new.0.iter().cloned());
            Bookmarks(set.clone())
        };
        // Called without the lock held, so that the consumer may use the manager.
        if let Some(consumer) = &self.inner.consumer {
            consumer(&current);
        }
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

    #[test]
    fn callbacks_supply_extra_bookmarks_and_see_every_new_set() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let manager = BookmarkManager::with_callbacks(
            ["a"].into_iter().collect(),
            Some(Box::new(|| ["s"].into_iter().collect())),
            Some(Box::new(move |bookmarks: &Bookmarks| {
                sink.lock().unwrap().push(bookmarks.to_vec());
            })),
        );
        assert_eq!(manager.bookmarks(), ["a", "s"].into_iter().collect());
        // The supplier's bookmarks are not kept by the manager.
        manager.update(
            &["a", "s"].into_iter().collect(),
            &["b"].into_iter().collect(),
        );
        assert_eq!(manager.bookmarks(), ["b", "s"].into_iter().collect());
        // An update without a new bookmark changes nothing and is not reported.
        manager.update(&Bookmarks::new(), &Bookmarks::new());
        assert_eq!(*seen.lock().unwrap(), vec![vec!["b".to_owned()]]);
    }
}
