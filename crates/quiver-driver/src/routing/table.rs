//! One database's routing table and its freshness rules, with time passed in.

use std::time::{Duration, Instant};

use quiver_bolt::{AccessMode, Role, metadata};

use crate::config::Address;
use crate::error::RoutingTableError;

/// How long a table stays in memory after it expired without being refreshed (the official
/// drivers' `routing_table_purge_delay`, not configurable there either).
pub(crate) const PURGE_DELAY: Duration = Duration::from_secs(30);

/// The routing table of one database: who routes, reads and writes, and until when that holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Table {
    /// The database (`None`: the table of the home-database resolution, see
    /// [`Cluster`](crate::cluster::Cluster)).
    pub(crate) database: Option<String>,
    pub(crate) routers: Vec<Address>,
    pub(crate) readers: Vec<Address>,
    pub(crate) writers: Vec<Address>,
    /// The table is new, or the last accepted reply had no writers: the next refresh asks the
    /// initial router first (a writer-less reply may come from a minority partition).
    pub(crate) initialized_without_writers: bool,
    /// When the reply was accepted.
    updated: Instant,
    /// `ttl` of the reply.
    ttl: Duration,
}

impl Table {
    /// A table nobody has asked for yet: the initial router only, already stale.
    pub(crate) fn new(database: Option<String>, initial: Address, now: Instant) -> Self {
        Table {
            database,
            routers: vec![initial],
            readers: Vec::new(),
            writers: Vec::new(),
            initialized_without_writers: true,
            updated: now,
            ttl: Duration::ZERO,
        }
    }

    /// A ROUTE reply (already checked by [`metadata::routing_table`]) as a table accepted at
    /// `now`. Addresses without a port get 7687; duplicates are dropped. A reply without routers
    /// or without readers is refused (that router is broken); one without writers is fine (a
    /// leader election, a read-only database).
    pub(crate) fn from_reply(
        reply: &metadata::RoutingTable,
        requested: Option<&str>,
        now: Instant,
    ) -> Result<Self, RoutingTableError> {
        let mut table = Table {
            database: reply.db.clone().or_else(|| requested.map(str::to_owned)),
            routers: Vec::new(),
            readers: Vec::new(),
            writers: Vec::new(),
            initialized_without_writers: false,
            updated: now,
            ttl: reply.ttl,
        };
        for (role, addresses) in &reply.servers {
            let list = match role {
                Role::Route => &mut table.routers,
                Role::Read => &mut table.readers,
                Role::Write => &mut table.writers,
            };
            for text in addresses {
                let address = Address::parse(text)
                    .map_err(|_| RoutingTableError::InvalidAddress(text.clone()))?;
                if !list.contains(&address) {
                    list.push(address);
                }
            }
        }
        if table.routers.is_empty() {
            return Err(RoutingTableError::NoRouters);
        }
        if table.readers.is_empty() {
            return Err(RoutingTableError::NoReaders);
        }
        table.initialized_without_writers = table.writers.is_empty();
        Ok(table)
    }

    /// Whether the table can serve `mode` at `now`: not expired, a router left, and a reader
    /// (READ) or writer (WRITE) left.
    pub(crate) fn is_fresh(&self, mode: AccessMode, now: Instant) -> bool {
        let unexpired = match self.updated.checked_add(self.ttl) {
            Some(expiry) => now < expiry,
            // A ttl beyond the clock's range: it never expires.
            None => true,
        };
        unexpired && !self.routers.is_empty() && !self.servers(mode).is_empty()
    }

    /// Whether the table expired more than [`PURGE_DELAY`] ago: nobody used it since, so it is
    /// dropped (the servers only it named lose their idle connections).
    pub(crate) fn is_aged(&self, now: Instant) -> bool {
        self.updated
            .checked_add(self.ttl)
            .and_then(|expiry| expiry.checked_add(PURGE_DELAY))
            .is_some_and(|purge| purge <= now)
    }

    /// The servers for `mode`.
    pub(crate) fn servers(&self, mode: AccessMode) -> &[Address] {
        match mode {
            AccessMode::Read => &self.readers,
            AccessMode::Write => &self.writers,
        }
    }

    /// The table's `ttl`.
    pub(crate) fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Take the members, ttl and time of `fresh` (a reply for this table's database).
    pub(crate) fn update(&mut self, fresh: Table) {
        let database = self.database.take();
        *self = fresh;
        if self.database.is_none() {
            self.database = database;
        }
    }

    /// `address` is unreachable: forget it in every role.
    pub(crate) fn deactivate(&mut self, address: &Address) {
        self.routers.retain(|a| a != address);
        self.readers.retain(|a| a != address);
        self.writers.retain(|a| a != address);
    }

    /// `address` is no longer this database's writer (NotALeader, ForbiddenOnReadOnlyDatabase).
    pub(crate) fn deactivate_writer(&mut self, address: &Address) {
        self.writers.retain(|a| a != address);
    }

    /// Whether `address` has any role in the table.
    pub(crate) fn contains(&self, address: &Address) -> bool {
        self.routers.contains(address)
            || self.readers.contains(address)
            || self.writers.contains(address)
    }

    /// The routers to ask for a new table, in order: the initial router first when the table is
    /// new or its last reply had no writers, otherwise the known routers first and the initial
    /// router last. The initial router is always in the list (it is resolved again each time),
    /// so a cluster whose known routers all went away is found again through it.
    pub(crate) fn refresh_order(&self, initial: &Address) -> Vec<Address> {
        let known = self.routers.iter().filter(|r| *r != initial).cloned();
        if self.initialized_without_writers {
            std::iter::once(initial.clone()).chain(known).collect()
        } else {
            known.chain(std::iter::once(initial.clone())).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(host: &str) -> Address {
        Address::new(host, 7687)
    }

    fn reply(
        ttl: u64,
        routers: &[&str],
        readers: &[&str],
        writers: &[&str],
    ) -> metadata::RoutingTable {
        let list = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect();
        metadata::RoutingTable {
            ttl: Duration::from_secs(ttl),
            db: Some("neo4j".into()),
            servers: vec![
                (Role::Route, list(routers)),
                (Role::Read, list(readers)),
                (Role::Write, list(writers)),
            ],
        }
    }

    #[test]
    fn a_new_table_is_stale_and_asks_the_initial_router_first() {
        let t0 = Instant::now();
        let table = Table::new(None, a("seed"), t0);
        assert!(!table.is_fresh(AccessMode::Read, t0));
        assert!(!table.is_fresh(AccessMode::Write, t0));
        assert!(table.initialized_without_writers);
        assert_eq!(table.refresh_order(&a("seed")), [a("seed")]);
    }

    #[test]
    fn freshness_needs_time_left_a_router_and_a_server_for_the_mode() {
        let t0 = Instant::now();
        let mut table =
            Table::from_reply(&reply(300, &["r1"], &["b", "c"], &["w"]), None, t0).unwrap();
        assert_eq!(table.database.as_deref(), Some("neo4j"));
        assert_eq!(table.readers, [a("b"), a("c")], "port 7687 filled in");
        assert!(table.is_fresh(AccessMode::Read, t0));
        assert!(table.is_fresh(AccessMode::Write, t0 + Duration::from_secs(299)));
        assert!(!table.is_fresh(AccessMode::Write, t0 + Duration::from_secs(300)));
        table.deactivate_writer(&a("w"));
        assert!(!table.is_fresh(AccessMode::Write, t0));
        assert!(table.is_fresh(AccessMode::Read, t0));
        table.deactivate(&a("r1"));
        assert!(!table.is_fresh(AccessMode::Read, t0), "no router left");
    }

    #[test]
    fn replies_without_routers_or_readers_are_refused_but_writerless_ones_are_kept() {
        let t0 = Instant::now();
        assert_eq!(
            Table::from_reply(&reply(1, &[], &["b"], &["w"]), None, t0),
            Err(RoutingTableError::NoRouters)
        );
        assert_eq!(
            Table::from_reply(&reply(1, &["r"], &[], &["w"]), None, t0),
            Err(RoutingTableError::NoReaders)
        );
        assert_eq!(
            Table::from_reply(&reply(1, &["r"], &["b"], &[]), None, t0)
                .map(|t| t.initialized_without_writers),
            Ok(true)
        );
        assert_eq!(
            Table::from_reply(&reply(1, &["r:x"], &["b"], &[]), None, t0),
            Err(RoutingTableError::InvalidAddress("r:x".into()))
        );
    }

    #[test]
    fn known_routers_come_first_once_a_table_had_writers() {
        let t0 = Instant::now();
        let seed = a("seed");
        let table =
            Table::from_reply(&reply(10, &["r1", "seed", "r2"], &["b"], &["w"]), None, t0).unwrap();
        assert_eq!(table.refresh_order(&seed), [a("r1"), a("r2"), seed.clone()]);
        let writerless =
            Table::from_reply(&reply(10, &["r1", "seed"], &["b"], &[]), None, t0).unwrap();
        assert_eq!(writerless.refresh_order(&seed), [seed.clone(), a("r1")]);
        let mut gone = table.clone();
        for r in ["r1", "r2", "seed"] {
            gone.deactivate(&a(r));
        }
        assert_eq!(
            gone.refresh_order(&seed),
            [seed],
            "back to the initial router"
        );
    }

    #[test]
    fn tables_are_purged_thirty_seconds_after_they_expire() {
        let t0 = Instant::now();
        let table = Table::from_reply(&reply(10, &["r"], &["b"], &["w"]), None, t0).unwrap();
        assert!(!table.is_aged(t0 + Duration::from_secs(39)));
        assert!(table.is_aged(t0 + Duration::from_secs(40)));
        let forever =
            Table::from_reply(&reply(u64::MAX, &["r"], &["b"], &["w"]), None, t0).unwrap();
        assert!(forever.is_fresh(AccessMode::Read, t0 + Duration::from_secs(1 << 40)));
        assert!(!forever.is_aged(t0 + Duration::from_secs(1 << 40)));
    }
}
