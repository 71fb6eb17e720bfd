//! Counts the driver's retries by cause: the driver emits a tracing event for each retry of a
//! transaction function (`"transaction failed with a retryable error; retrying"`, with `error`).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

tokio::task_local! {
    /// The ledger id the current task is writing (its retries are filed under it).
    pub(crate) static WRITE_ID: i64;
}

/// A subscriber that only looks at the retry events.
#[derive(Default)]
pub(crate) struct RetryCauses {
    causes: Mutex<BTreeMap<String, u64>>,
    /// The causes of each write's retries, in order.
    per_write: Mutex<std::collections::HashMap<i64, Vec<String>>>,
    next_span: AtomicU64,
}

impl RetryCauses {
    /// Why the write with ledger id `id` was retried, in order.
    pub(crate) fn of_write(&self, id: i64) -> Vec<String> {
        self.per_write
            .lock()
            .ok()
            .and_then(|per_write| per_write.get(&id).cloned())
            .unwrap_or_default()
    }

    /// The causes seen so far, with how often.
    pub(crate) fn snapshot(&self) -> BTreeMap<String, u64> {
        self.causes.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    error: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.record_debug(field, &value);
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "error" => self.error = format!("{value:?}"),
            _ => {}
        }
    }
}

impl Subscriber for RetryCauses {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.is_event() && metadata.target().starts_with("quiver_driver")
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(self.next_span.fetch_add(1, Ordering::Relaxed) + 1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        if fields.message.contains("retrying") {
            // The error's text up to the first digit-heavy detail: enough to group by cause.
            let cause: String = fields.error.chars().take(110).collect();
            if let Ok(id) = WRITE_ID.try_with(|id| *id) {
                if let Ok(mut per_write) = self.per_write.lock() {
                    per_write.entry(id).or_default().push(fields.error.clone());
                }
            }
            if let Ok(mut causes) = self.causes.lock() {
                *causes.entry(cause).or_default() += 1;
            }
        }
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}
