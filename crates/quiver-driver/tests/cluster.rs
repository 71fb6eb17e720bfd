//! A routing driver against a simulated Neo4j cluster in memory: members built on the Bolt
//! core's server role (strict mode, so what Neo4j answers by itself — IGNORED after a failure,
//! refusals — is the core's), a DNS, and a clock that moves only when the driver sleeps or a
//! test says so. Each member answers ROUTE from the world's topology, serves reads and writes
//! per database as its role allows (a follower answers a write with `NotALeader`), resolves
//! home databases per user, and can die at any moment (its connections break, new ones are
//! refused).
//!
//! Covered: a leader switch, a member dying mid-transaction and during COMMIT, a member hanging
//! up after a security failure (it stays in the table), every known
//! router gone (back to the URI's name, resolved again), a name resolving to several routers,
//! a table without writers, the Bolt 5.8 home-database cache (miss, hit, stale; off in a mixed
//! cluster), and hostile ROUTE replies.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures_io::{AsyncRead, AsyncWrite};
use quiver_bolt::server::{ServerConfig, ServerConnection, ServerEvent};
use quiver_bolt::value::{Map, Value};
use quiver_bolt::{ClientMessage, Failure, Version, VersionRange};
use quiver_driver::{
    AccessMode, Address, AuthToken, Config, ConnectTarget, DiscoveryFailure, Driver, Error,
    PoolMetrics, RetryConfig, RoutingTableError, Runtime, SessionConfig,
};

// ---------------------------------------------------------------------------------------------
// A tiny executor: nothing ever really waits (the members answer inside `poll_write`, sleeps
// move the simulated clock).

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..100_000 {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
    panic!("the future never completed: the driver waited for something no member sends");
}

// ---------------------------------------------------------------------------------------------
// The world: members, databases, DNS, clock.

/// Who serves one database.
#[derive(Clone, Debug)]
struct Topology {
    routers: Vec<String>,
    readers: Vec<String>,
    writers: Vec<String>,
    ttl: i64,
}

struct Member {
    alive: bool,
    /// Bumped when the member dies: connections of an earlier life are broken.
    life: u64,
    version: VersionRange,
    /// `ssr.enabled` in HELLO's hints (Bolt 5.8); such a member also forwards writes it
    /// cannot serve, as a real one with server-side routing does.
    ssr: bool,
    /// A scripted ROUTE answer (the SUCCESS metadata) in place of the topology: a hostile or
    /// broken router.
    route_reply: Option<Map>,
    /// A failure code ROUTE is answered with.
    route_failure: Option<&'static str>,
    /// Die when the next COMMIT arrives, without answering it.
    die_on_commit: bool,
    /// Answer the next RUN with this security failure and hang up on that connection (as
    /// Neo4j does when it refuses a connection's credentials); the member lives on.
    refuse_next_run: Option<&'static str>,
}

/// Writers that appear once this many more ROUTE requests were answered (an election).
struct Election {
    routes_left: usize,
    database: String,
    writers: Vec<String>,
}

struct World {
    clock: Instant,
    members: BTreeMap<String, Member>,
    /// What DNS names resolve to.
    dns: HashMap<String, Vec<IpAddr>>,
    /// Which member listens on an IP address.
    ips: HashMap<IpAddr, String>,
    databases: HashMap<String, Topology>,
    /// Home databases by user (`neo4j` for anybody else).
    homes: HashMap<String, String>,
    election: Option<Election>,
    /// Every name the driver asked the runtime to resolve.
    resolved: Vec<String>,
    /// Every `host:port` the driver connected to (or tried to).
    connects: Vec<String>,
    /// The host each ROUTE came through (a member's name, or an IP address the URI's name
    /// resolved to).
    routes_via: Vec<String>,
    /// What the members were asked, as `"<member>: <request>"`.
    log: Vec<String>,
    /// The routing context of every HELLO, with the member it went to.
    hellos: Vec<(String, Option<Map>)>,
    connections: usize,
    commits: usize,
}

fn member(name: &str) -> String {
    format!("{name}:7687")
}

fn members(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| member(name)).collect()
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

impl World {
    /// Members `a`, `b`, `c` (Bolt 5.8, no server-side routing); databases `neo4j` and
    /// `other`, each routed by all three, read from `b` and `c`, written to `a`; `cluster`
    /// resolves to `a`'s IP address.
    fn three_members() -> Arc<Mutex<World>> {
        let mut world = World {
            clock: Instant::now(),
            members: BTreeMap::new(),
            dns: HashMap::new(),
            ips: HashMap::new(),
            databases: HashMap::new(),
            homes: HashMap::new(),
            election: None,
            resolved: Vec::new(),
            connects: Vec::new(),
            routes_via: Vec::new(),
            log: Vec::new(),
            hellos: Vec::new(),
            connections: 0,
            commits: 0,
        };
        for (i, name) in ["a", "b", "c"].into_iter().enumerate() {
            world.add_member(name, &format!("10.0.0.{}", i + 1));
        }
        world.dns.insert("cluster".into(), vec![ip("10.0.0.1")]);
        for db in ["neo4j", "other"] {
            world.databases.insert(
                db.into(),
                Topology {
                    routers: members(&["a", "b", "c"]),
                    readers: members(&["b", "c"]),
                    writers: members(&["a"]),
                    ttl: 300,
                },
            );
        }
        Arc::new(Mutex::new(world))
    }

    fn add_member(&mut self, name: &str, address: &str) {
        self.members.insert(
            name.into(),
            Member {
                alive: true,
                life: 0,
                version: VersionRange::exact(5, 8),
                ssr: false,
                route_reply: None,
                route_failure: None,
                die_on_commit: false,
                refuse_next_run: None,
            },
        );
        self.ips.insert(ip(address), name.into());
    }

    fn member(&mut self, name: &str) -> &mut Member {
        self.members.get_mut(name).expect("a member of the cluster")
    }

    /// The member stops: its connections break, new ones are refused.
    fn kill(&mut self, name: &str) {
        let member = self.member(name);
        member.alive = false;
        member.life += 1;
    }

    fn topology(&mut self, database: &str) -> &mut Topology {
        self.databases.get_mut(database).expect("a database")
    }

    fn home_of(&self, user: &str) -> String {
        self.homes
            .get(user)
            .cloned()
            .unwrap_or_else(|| "neo4j".into())
    }

    fn advance(&mut self, by: Duration) {
        self.clock += by;
    }
}

#[derive(Clone)]
struct SimulatedNetwork(Arc<Mutex<World>>);

impl Runtime for SimulatedNetwork {
    type Stream = MemberStream;

    fn connect(
        &self,
        target: &ConnectTarget,
    ) -> impl Future<Output = io::Result<MemberStream>> + Send {
        let world = self.0.clone();
        let host = target.host.clone();
        let port = target.port;
        async move {
            let mut w = world.lock().unwrap();
            w.connects.push(format!("{host}:{port}"));
            let name = match host.parse::<IpAddr>() {
                Ok(ip) => w.ips.get(&ip).cloned(),
                Err(_) => w.members.contains_key(&host).then(|| host.clone()),
            };
            let Some(name) = name.filter(|name| port == 7687 && w.members[name].alive) else {
                return Err(io::ErrorKind::ConnectionRefused.into());
            };
            w.connections += 1;
            let id = w.connections;
            let member = &w.members[&name];
            Ok(MemberStream {
                world: world.clone(),
                server: ServerConnection::new(
                    ServerConfig::default()
                        .with_versions(vec![member.version])
                        .with_manifest(false),
                    Instant::now(),
                ),
                name,
                life: member.life,
                id,
                via: host,
                user: String::new(),
                transaction: None,
                pending: None,
                next_qid: 0,
                output: VecDeque::new(),
                closed: false,
            })
        }
    }

    fn resolve(
        &self,
        host: &str,
        _port: u16,
    ) -> impl Future<Output = io::Result<Vec<IpAddr>>> + Send {
        let mut w = self.0.lock().unwrap();
        w.resolved.push(host.to_owned());
        let answer = match host.parse::<IpAddr>() {
            Ok(ip) => Ok(vec![ip]),
            Err(_) => w
                .dns
                .get(host)
                .cloned()
                .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such host")),
        };
        std::future::ready(answer)
    }

    fn sleep_until(&self, deadline: Instant) -> impl Future<Output = ()> + Send {
        let mut w = self.0.lock().unwrap();
        w.clock = w.clock.max(deadline);
        std::future::ready(())
    }

    fn now(&self) -> Instant {
        self.0.lock().unwrap().clock
    }
}

// ---------------------------------------------------------------------------------------------
// One connection to a member: the server role of the Bolt core, answered as the member would.

struct MemberStream {
    world: Arc<Mutex<World>>,
    server: ServerConnection,
    name: String,
    /// The member's life this connection belongs to.
    life: u64,
    id: usize,
    /// The host the driver connected to.
    via: String,
    /// LOGON's principal.
    user: String,
    /// The open transaction: its mode (true: write) and database.
    transaction: Option<(bool, String)>,
    /// The record the next PULL returns, and whether the stream was a write.
    pending: Option<bool>,
    next_qid: i64,
    output: VecDeque<u8>,
    closed: bool,
}

fn failure(code: &str, message: &str) -> Failure {
    let mut failure = Failure::from_metadata(&Map::new());
    failure.code = code.to_owned();
    failure.message = Some(message.to_owned());
    failure
}

fn list(addresses: &[String]) -> Value {
    Value::List(addresses.iter().map(|a| Value::from(a.as_str())).collect())
}

fn server_entry(role: &str, addresses: Value) -> Value {
    let mut entry = Map::new();
    entry.insert("addresses", addresses);
    entry.insert("role", role);
    Value::Map(entry)
}

/// ROUTE's SUCCESS metadata: `{rt: {ttl, db, servers}}`.
fn route_reply(ttl: i64, db: &str, servers: Vec<Value>) -> Map {
    let mut rt = Map::new();
    rt.insert("ttl", ttl);
    rt.insert("db", db);
    rt.insert("servers", Value::List(servers));
    let mut reply = Map::new();
    reply.insert("rt", rt);
    reply
}

fn text(value: Option<&str>) -> &str {
    value.unwrap_or("-")
}

impl MemberStream {
    /// Whether the member died since this connection opened.
    fn broken(&self) -> bool {
        let w = self.world.lock().unwrap();
        let member = &w.members[&self.name];
        !member.alive || member.life != self.life
    }

    fn process(&mut self, bytes: &[u8]) {
        if self.server.handle_input(bytes, Instant::now()).is_err() {
            self.closed = true;
        }
        // Strict mode: one request at a time, only those a real server would process.
        while let Some(event) = self.server.poll_event() {
            if let ServerEvent::Request(request) = event {
                let message = request
                    .message
                    .unwrap_or_else(|e| panic!("the driver sent an invalid request: {e}"));
                self.answer(message);
                if self.closed {
                    return;
                }
            }
        }
        while let Some(bytes) = self.server.poll_transmit() {
            self.output.extend(bytes);
        }
        if self.server.is_closed() {
            self.closed = true;
        }
    }

    fn log(&self, entry: String) {
        let line = format!("{}: {entry}", self.name);
        self.world.lock().unwrap().log.push(line);
    }

    fn answer(&mut self, message: ClientMessage) {
        let v58 = self.server.version() >= Some(Version::new(5, 8));
        match message {
            ClientMessage::Hello(hello) => {
                let ssr = self.world.lock().unwrap().members[&self.name].ssr;
                self.world
                    .lock()
                    .unwrap()
                    .hellos
                    .push((self.name.clone(), hello.routing));
                let mut meta = Map::new();
                meta.insert("server", "Neo4j/5.26.0");
                meta.insert("connection_id", format!("bolt-{}", self.id));
                if v58 {
                    let mut hints = Map::new();
                    hints.insert("ssr.enabled", ssr);
                    meta.insert("hints", hints);
                }
                self.server.success(meta).unwrap();
            }
            ClientMessage::Logon(token) => {
                self.user = token.principal.unwrap_or_default();
                self.server.success(Map::new()).unwrap();
            }
            ClientMessage::Route(route) => {
                self.log(format!(
                    "ROUTE db={} imp={}",
                    text(route.db.as_deref()),
                    text(route.imp_user.as_deref())
                ));
                let via = self.via.clone();
                self.world.lock().unwrap().routes_via.push(via);
                let reply = self.route(route.db, route.imp_user);
                match reply {
                    Ok(reply) => self.server.success(reply).unwrap(),
                    Err(f) => self.server.failure(&f).unwrap(),
                }
            }
            ClientMessage::Begin(extra) => {
                let write = extra.mode == AccessMode::Write;
                self.log(format!(
                    "BEGIN db={} {}",
                    text(extra.db.as_deref()),
                    if write { "w" } else { "r" }
                ));
                let user = extra.imp_user.unwrap_or_else(|| self.user.clone());
                let db = extra
                    .db
                    .unwrap_or_else(|| self.world.lock().unwrap().home_of(&user));
                if !self.world.lock().unwrap().databases.contains_key(&db) {
                    let f = failure("Neo.ClientError.Database.DatabaseNotFound", "no such db");
                    return self.server.failure(&f).unwrap();
                }
                let mut meta = Map::new();
                if v58 {
                    meta.insert("db", db.as_str());
                }
                self.transaction = Some((write, db));
                self.next_qid = 0;
                self.server.success(meta).unwrap();
            }
            ClientMessage::Run(run) => {
                let refusal = self
                    .world
                    .lock()
                    .unwrap()
                    .member(&self.name)
                    .refuse_next_run
                    .take();
                if let Some(code) = refusal {
                    self.log(format!("RUN refused with {code}"));
                    self.server
                        .failure(&failure(code, "the credentials were refused"))
                        .unwrap();
                    while let Some(bytes) = self.server.poll_transmit() {
                        self.output.extend(bytes);
                    }
                    self.closed = true;
                    return;
                }
                let (write, db, auto_commit) = match &self.transaction {
                    Some((write, db)) => (*write, db.clone(), false),
                    None => {
                        let user = run
                            .extra
                            .imp_user
                            .clone()
                            .unwrap_or_else(|| self.user.clone());
                        let db = run
                            .extra
                            .db
                            .clone()
                            .unwrap_or_else(|| self.world.lock().unwrap().home_of(&user));
                        (run.extra.mode == AccessMode::Write, db, true)
                    }
                };
                self.log(format!(
                    "RUN db={} {} {}",
                    if auto_commit {
                        text(run.extra.db.as_deref())
                    } else {
                        "tx"
                    },
                    if write { "w" } else { "r" },
                    run.query
                ));
                let (is_writer, ssr) = {
                    let w = self.world.lock().unwrap();
                    let writer = w
                        .databases
                        .get(&db)
                        .is_some_and(|t| t.writers.contains(&member(&self.name)));
                    (writer, w.members[&self.name].ssr)
                };
                if write && !is_writer && !ssr {
                    let f = failure(
                        "Neo.ClientError.Cluster.NotALeader",
                        "No write operations are allowed on this database. Writes must pass \
                         through the leader.",
                    );
                    return self.server.failure(&f).unwrap();
                }
                let mut meta = Map::new();
                meta.insert("fields", Value::List(vec![Value::from("member")]));
                if auto_commit && v58 {
                    meta.insert("db", db.as_str());
                }
                if !auto_commit {
                    self.next_qid += 1;
                    meta.insert("qid", self.next_qid);
                }
                self.pending = Some(write);
                self.server.success(meta).unwrap();
            }
            ClientMessage::Pull { .. } | ClientMessage::Discard { .. } => {
                let write = self.pending.take().unwrap_or(false);
                if matches!(message, ClientMessage::Pull { .. }) {
                    self.server
                        .record(&[Value::from(self.name.as_str())])
                        .unwrap();
                }
                let mut meta = Map::new();
                meta.insert("type", if write { "w" } else { "r" });
                if self.transaction.is_none() {
                    meta.insert("bookmark", self.bookmark());
                }
                self.server.success(meta).unwrap();
            }
            ClientMessage::Commit => {
                self.log("COMMIT".into());
                let die = std::mem::take(
                    &mut self.world.lock().unwrap().member(&self.name).die_on_commit,
                );
                if die {
                    let name = self.name.clone();
                    self.world.lock().unwrap().kill(&name);
                    self.closed = true;
                    return;
                }
                self.transaction = None;
                let mut meta = Map::new();
                meta.insert("bookmark", self.bookmark());
                self.server.success(meta).unwrap();
            }
            ClientMessage::Rollback | ClientMessage::Reset => {
                self.transaction = None;
                self.pending = None;
                self.server.success(Map::new()).unwrap();
            }
            _ => self.server.success(Map::new()).unwrap(),
        }
    }

    fn bookmark(&self) -> String {
        let mut w = self.world.lock().unwrap();
        w.commits += 1;
        format!("bm-{}", w.commits)
    }

    /// ROUTE: the scripted reply, or the table of the database asked for (or of the user's
    /// home database).
    fn route(&self, db: Option<String>, imp_user: Option<String>) -> Result<Map, Box<Failure>> {
        let mut w = self.world.lock().unwrap();
        if let Some(reply) = w.members[&self.name].route_reply.clone() {
            return Ok(reply);
        }
        if let Some(code) = w.members[&self.name].route_failure {
            return Err(Box::new(failure(code, "scripted ROUTE failure")));
        }
        let db = db.unwrap_or_else(|| w.home_of(imp_user.as_deref().unwrap_or(&self.user)));
        let Some(topology) = w.databases.get(&db).cloned() else {
            return Err(Box::new(failure(
                "Neo.ClientError.Database.DatabaseNotFound",
                "the database does not exist",
            )));
        };
        if let Some(election) = &mut w.election {
            election.routes_left = election.routes_left.saturating_sub(1);
            if election.routes_left == 0 {
                let election = w.election.take().unwrap();
                w.topology(&election.database).writers = election.writers;
            }
        }
        Ok(route_reply(
            topology.ttl,
            &db,
            vec![
                server_entry("ROUTE", list(&topology.routers)),
                server_entry("READ", list(&topology.readers)),
                server_entry("WRITE", list(&topology.writers)),
            ],
        ))
    }
}

impl AsyncRead for MemberStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if self.output.is_empty() {
            if self.closed || self.broken() {
                return Poll::Ready(Ok(0));
            }
            return Poll::Ready(Err(io::Error::other(
                "the member has nothing to say (the driver waits for an answer to nothing)",
            )));
        }
        let n = buf.len().min(self.output.len());
        for (slot, byte) in buf.iter_mut().zip(self.output.drain(..n)) {
            *slot = byte;
        }
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for MemberStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.closed || self.broken() {
            self.closed = true;
            return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
        }
        self.process(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.closed = true;
        Poll::Ready(Ok(()))
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers.

const URI: &str = "neo4j://cluster:7687?region=eu";

fn driver(world: &Arc<Mutex<World>>) -> Driver<SimulatedNetwork> {
    driver_for(world, URI)
}

fn driver_for(world: &Arc<Mutex<World>>, uri: &str) -> Driver<SimulatedNetwork> {
    let config = Config::default().with_retry(RetryConfig {
        initial_delay: Duration::from_millis(10),
        ..RetryConfig::default()
    });
    Driver::with_runtime(
        SimulatedNetwork(world.clone()),
        uri,
        AuthToken::basic("u", "p"),
        config,
    )
    .unwrap()
}

/// A transaction function in `mode` on `db`: which member served it, and how many attempts it
/// took.
fn work(
    driver: &Driver<SimulatedNetwork>,
    db: &str,
    mode: AccessMode,
) -> Result<(String, usize), Error> {
    let attempts = Mutex::new(0);
    let served = block_on(async {
        let mut session = driver.session_with(SessionConfig::new().with_database(db));
        let attempts = &attempts;
        let unit = |tx: quiver_driver::Transaction<SimulatedNetwork>| async move {
            *attempts.lock().unwrap() += 1;
            let query = match mode {
                AccessMode::Read => "MATCH (n) RETURN count(n)",
                AccessMode::Write => "CREATE ()",
            };
            tx.run(query).await?.single().await?.get_at::<String>(0)
        };
        match mode {
            AccessMode::Read => session.execute_read(unit).await,
            AccessMode::Write => session.execute_write(unit).await,
        }
    })?;
    let attempts = *attempts.lock().unwrap();
    Ok((served, attempts))
}

fn write(driver: &Driver<SimulatedNetwork>, db: &str) -> Result<(String, usize), Error> {
    work(driver, db, AccessMode::Write)
}

fn read(driver: &Driver<SimulatedNetwork>, db: &str) -> Result<(String, usize), Error> {
    work(driver, db, AccessMode::Read)
}

fn addresses(names: &[&str]) -> Vec<Address> {
    names.iter().map(|name| Address::new(*name, 7687)).collect()
}

/// The entries of the members' log that match `filter`, as logged.
fn logged(world: &Arc<Mutex<World>>, filter: &str) -> Vec<String> {
    let w = world.lock().unwrap();
    w.log
        .iter()
        .filter(|line| line.contains(filter))
        .cloned()
        .collect()
}

fn clear_log(world: &Arc<Mutex<World>>) {
    let mut w = world.lock().unwrap();
    w.log.clear();
    w.connects.clear();
    w.resolved.clear();
    w.routes_via.clear();
}

// ---------------------------------------------------------------------------------------------
// Leader switch and dying members.

#[test]
fn a_leader_switch_is_followed_after_not_a_leader_for_that_database_only() {
    let world = World::three_members();
    let driver = driver(&world);
    assert_eq!(write(&driver, "neo4j").unwrap(), ("a".into(), 1));
    assert_eq!(write(&driver, "other").unwrap(), ("a".into(), 1));
    assert_eq!(read(&driver, "neo4j").unwrap().1, 1);
    assert_eq!(
        logged(&world, "ROUTE").len(),
        2,
        "one ROUTE per database, then the tables are fresh: {:?}",
        world.lock().unwrap().log
    );

    // The election moves `neo4j`'s leadership to `b`; `a` stays the writer of `other`.
    {
        let mut w = world.lock().unwrap();
        w.topology("neo4j").writers = members(&["b"]);
    }
    clear_log(&world);
    assert_eq!(write(&driver, "neo4j").unwrap(), ("b".into(), 2));
    let log = world.lock().unwrap().log.clone();
    let not_a_leader = log
        .iter()
        .position(|l| l == "a: RUN db=tx w CREATE ()")
        .unwrap();
    let route = log
        .iter()
        .position(|l| l.contains("ROUTE db=neo4j"))
        .unwrap();
    assert!(not_a_leader < route, "refreshed after NotALeader: {log:?}");
    assert_eq!(
        driver.routing_table(Some("neo4j")).unwrap().writers,
        addresses(&["b"])
    );
    assert_eq!(
        driver.routing_table(Some("other")).unwrap().writers,
        addresses(&["a"]),
        "another database keeps its writer"
    );
    assert_eq!(write(&driver, "other").unwrap(), ("a".into(), 1));

    // Every connection, to routers, readers and writers alike, carried the routing context.
    let hellos = world.lock().unwrap().hellos.clone();
    let greeted: Vec<&str> = hellos.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(
        greeted,
        ["a", "a", "b"],
        "the initial router, the writer, a reader"
    );
    for (member, routing) in hellos {
        let routing = routing.unwrap_or_else(|| panic!("HELLO to {member} without routing"));
        assert_eq!(
            routing.get("address").and_then(Value::as_str),
            Some("cluster:7687")
        );
        assert_eq!(routing.get("region").and_then(Value::as_str), Some("eu"));
        assert_eq!(routing.len(), 2, "{routing:?}");
    }
}

#[test]
fn a_member_dying_mid_transaction_is_forgotten_everywhere_and_the_work_moves_on() {
    let world = World::three_members();
    let driver = driver(&world);
    assert_eq!(read(&driver, "other").unwrap().1, 1);
    let error = block_on(async {
        let mut session = driver.session_with(SessionConfig::new().with_database("neo4j"));
        let tx = session.begin_transaction().await?;
        let first = tx.run("CREATE ()").await?.single().await?;
        assert_eq!(first.get_at::<String>(0)?, "a");
        // The leader dies; `b` takes over.
        {
            let mut w = world.lock().unwrap();
            w.kill("a");
            for db in ["neo4j", "other"] {
                let t = w.topology(db);
                t.routers = members(&["b", "c"]);
                t.writers = members(&["b"]);
            }
        }
        let second = tx.run("CREATE ()").await;
        Ok::<_, Error>(second.err())
    })
    .unwrap()
    .expect("the second query meets the dead member");
    assert!(matches!(error, Error::SessionExpired(_)), "{error:?}");
    assert!(error.is_retryable());
    for db in ["neo4j", "other"] {
        let table = driver.routing_table(Some(db)).unwrap();
        assert!(
            !table.routers.contains(&Address::new("a", 7687))
                && !table.writers.contains(&Address::new("a", 7687)),
            "{db}: {table:?}"
        );
    }
    assert_eq!(
        driver
            .pool_metrics(&Address::new("a", 7687))
            .unwrap_or_default(),
        PoolMetrics::default(),
        "no connection to it is left"
    );

    clear_log(&world);
    assert_eq!(write(&driver, "neo4j").unwrap(), ("b".into(), 1));
    assert_eq!(
        logged(&world, "ROUTE"),
        ["b: ROUTE db=neo4j imp=-"],
        "a known router was asked (the table had writers)"
    );
}

#[test]
fn a_member_dying_while_commit_awaits_its_answer_is_an_unknown_outcome_not_retried() {
    let world = World::three_members();
    let driver = driver(&world);
    world.lock().unwrap().member("a").die_on_commit = true;
    let error = write(&driver, "neo4j").unwrap_err();
    assert!(matches!(error, Error::IncompleteCommit { .. }), "{error:?}");
    assert!(!error.is_retryable());
    assert_eq!(logged(&world, "COMMIT"), ["a: COMMIT"], "tried once");
}

#[test]
fn a_member_hanging_up_after_a_security_failure_stays_in_the_routing_table() {
    for code in [
        "Neo.ClientError.Security.TokenExpired",
        "Neo.ClientError.Security.Unauthorized",
        "Neo.ClientError.Security.Forbidden",
    ] {
        let world = World::three_members();
        let driver = driver(&world);
        assert_eq!(read(&driver, "neo4j").unwrap().1, 1);
        {
            let mut w = world.lock().unwrap();
            for reader in ["b", "c"] {
                w.member(reader).refuse_next_run = Some(code);
            }
        }
        clear_log(&world);
        let error = block_on(async {
            let mut session = driver.session_with(
                SessionConfig::new()
                    .with_database("neo4j")
                    .with_default_access_mode(AccessMode::Read),
            );
            let result = session.run("MATCH (n) RETURN n").await;
            match result {
                Ok(result) => result.consume().await.map(drop),
                Err(e) => Err(e),
            }
        })
        .expect_err("the reader refuses the query");
        assert_eq!(
            error.as_server_error().map(|e| e.code.as_str()),
            Some(code),
            "{error:?}"
        );
        assert_eq!(logged(&world, "RUN refused").len(), 1);
        {
            let mut w = world.lock().unwrap();
            for reader in ["b", "c"] {
                w.member(reader).refuse_next_run = None;
            }
        }
        let table = driver.routing_table(Some("neo4j")).unwrap();
        assert_eq!(
            table.readers,
            addresses(&["b", "c"]),
            "{code}: the reader that hung up is still a reader"
        );
        assert_eq!(read(&driver, "neo4j").unwrap().1, 1);
        assert!(
            logged(&world, "ROUTE").is_empty(),
            "{code}: no rediscovery after a refusal"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Finding the cluster.

#[test]
fn when_every_known_router_is_gone_the_uri_name_is_resolved_again() {
    let world = World::three_members();
    for db in ["neo4j", "other"] {
        world.lock().unwrap().topology(db).ttl = 10;
    }
    let driver = driver(&world);
    assert_eq!(read(&driver, "neo4j").unwrap(), ("b".into(), 1));
    assert_eq!(world.lock().unwrap().resolved, ["cluster"]);

    // The whole cluster is replaced by d, e, f; the DNS name follows.
    {
        let mut w = world.lock().unwrap();
        for name in ["a", "b", "c"] {
            w.kill(name);
        }
        for (name, address) in [("d", "10.0.1.4"), ("e", "10.0.1.5"), ("f", "10.0.1.6")] {
            w.add_member(name, address);
        }
        w.dns.insert("cluster".into(), vec![ip("10.0.1.4")]);
        *w.topology("neo4j") = Topology {
            routers: members(&["d", "e", "f"]),
            readers: members(&["e", "f"]),
            writers: members(&["d"]),
            ttl: 10,
        };
        w.advance(Duration::from_secs(11));
    }
    clear_log(&world);
    let (served, attempts) = read(&driver, "neo4j").unwrap();
    assert!(served == "e" || served == "f", "{served}");
    assert_eq!(
        attempts, 1,
        "the refresh found the cluster before the work started"
    );
    let w = world.lock().unwrap();
    assert_eq!(w.resolved, ["cluster"], "the URI's name resolved again");
    assert_eq!(w.log.iter().filter(|l| l.contains("ROUTE")).count(), 1);
    assert_eq!(w.log[0], "d: ROUTE db=neo4j imp=-");
    // Every known router was tried before falling back to the URI's address.
    // The known routers first (`b` through its idle connection from the first read, which
    // broke), then the URI's name, resolved again, then the reader of the new table.
    assert_eq!(
        w.connects,
        [
            "a:7687",
            "c:7687",
            "10.0.1.4:7687",
            &format!("{served}:7687")
        ]
    );
    assert_eq!(w.routes_via, ["10.0.1.4"]);
    drop(w);
    assert_eq!(
        driver.routing_table(Some("neo4j")).unwrap().routers,
        addresses(&["d", "e", "f"])
    );
}

#[test]
fn a_name_resolving_to_several_routers_finds_one_that_answers() {
    let world = World::three_members();
    {
        let mut w = world.lock().unwrap();
        // 10.0.0.9 is nobody; `a` cannot serve routing tables right now; `b` answers.
        w.dns.insert(
            "cluster".into(),
            vec![ip("10.0.0.9"), ip("10.0.0.1"), ip("10.0.0.2")],
        );
        w.member("a").route_failure = Some("Neo.TransientError.General.DatabaseUnavailable");
    }
    let driver = driver(&world);
    assert_eq!(read(&driver, "neo4j").unwrap().1, 1);
    let w = world.lock().unwrap();
    assert_eq!(w.resolved, ["cluster"]);
    assert_eq!(
        w.connects[..3],
        ["10.0.0.9:7687", "10.0.0.1:7687", "10.0.0.2:7687"],
        "every address of the name, in order"
    );
    let routes: Vec<&String> = w.log.iter().filter(|l| l.contains("ROUTE")).collect();
    assert_eq!(
        routes,
        ["a: ROUTE db=neo4j imp=-", "b: ROUTE db=neo4j imp=-"]
    );
}

#[test]
fn a_table_without_writers_serves_reads_and_writes_wait_for_the_election() {
    let world = World::three_members();
    {
        let mut w = world.lock().unwrap();
        w.topology("neo4j").writers.clear();
    }
    let driver = driver(&world);
    assert_eq!(read(&driver, "neo4j").unwrap().1, 1);
    assert_eq!(
        logged(&world, "ROUTE").len(),
        1,
        "a read accepts it at once"
    );
    assert!(
        driver
            .routing_table(Some("neo4j"))
            .unwrap()
            .writers
            .is_empty()
    );

    // A write asks every router; the election ends with the fourth ROUTE from now.
    world.lock().unwrap().election = Some(Election {
        routes_left: 4,
        database: "neo4j".into(),
        writers: members(&["c"]),
    });
    clear_log(&world);
    assert_eq!(write(&driver, "neo4j").unwrap(), ("c".into(), 1));
    // The initial router (the URI's name, which is `a`) first, as the table had no writers,
    // then the known routers; all writer-less: no writer (the attempt waits and retries
    // before its function runs); the next refresh starts with the initial router again.
    assert_eq!(
        world.lock().unwrap().routes_via,
        ["10.0.0.1", "a", "b", "c", "10.0.0.1"]
    );
    assert_eq!(
        driver.routing_table(Some("neo4j")).unwrap().writers,
        addresses(&["c"])
    );
}

// ---------------------------------------------------------------------------------------------
// The Bolt 5.8 home-database cache.

/// `queries` auto-commit queries in one session of `user` (impersonated) without a database:
/// the members that served them.
fn home_query(driver: &Driver<SimulatedNetwork>, user: &str, queries: usize) -> Vec<String> {
    block_on(async {
        let mut session = driver.session_with(SessionConfig::new().with_impersonated_user(user));
        let mut served = Vec::new();
        for _ in 0..queries {
            let record = session.run("RETURN 1").await?.single().await?;
            served.push(record.get_at::<String>(0)?);
        }
        Ok::<_, Error>(served)
    })
    .unwrap()
}

fn ssr_cluster() -> Arc<Mutex<World>> {
    let world = World::three_members();
    {
        let mut w = world.lock().unwrap();
        for name in ["a", "b", "c"] {
            w.member(name).ssr = true;
        }
        w.homes.insert("alice".into(), "alice-db".into());
        for db in ["alice-db", "alice-new"] {
            let topology = w.databases["neo4j"].clone();
            w.databases.insert(
                db.into(),
                Topology {
                    ttl: 60,
                    ..topology
                },
            );
        }
    }
    world
}

fn requests(world: &Arc<Mutex<World>>) -> Vec<String> {
    let w = world.lock().unwrap();
    w.log
        .iter()
        .filter(|l| l.contains("ROUTE") || l.contains("RUN"))
        .map(|l| l.split_once(": ").unwrap().1.to_owned())
        .collect()
}

#[test]
fn the_home_database_cache_misses_hits_and_refreshes_a_stale_guess_as_the_user() {
    let world = ssr_cluster();
    let driver = driver(&world);

    // Miss: resolved with ROUTE without `db`, as alice; the session pins the name. (Writes:
    // the writer serves them.)
    assert_eq!(home_query(&driver, "alice", 2), ["a", "a"]);
    assert_eq!(
        requests(&world),
        [
            "ROUTE db=- imp=alice",
            "RUN db=alice-db w RETURN 1",
            "RUN db=alice-db w RETURN 1",
        ]
    );

    // Hit: the cached guess routes at once (its table is fresh): no ROUTE; the first RUN goes
    // without `db` (the server resolves it, and says which), later ones name it.
    clear_log(&world);
    home_query(&driver, "alice", 2);
    assert_eq!(
        requests(&world),
        ["RUN db=- w RETURN 1", "RUN db=alice-db w RETURN 1"]
    );

    // Stale: alice's home database changed and the guessed table expired: ROUTE without `db`
    // as alice (not as the driver's user) names the new one, which is pinned and cached.
    {
        let mut w = world.lock().unwrap();
        w.homes.insert("alice".into(), "alice-new".into());
        w.advance(Duration::from_secs(61));
    }
    clear_log(&world);
    home_query(&driver, "alice", 1);
    assert_eq!(
        requests(&world),
        ["ROUTE db=- imp=alice", "RUN db=alice-new w RETURN 1"]
    );
    clear_log(&world);
    home_query(&driver, "alice", 1);
    assert_eq!(
        requests(&world),
        ["RUN db=- w RETURN 1"],
        "the new name cached"
    );

    // Another user has their own entry.
    clear_log(&world);
    home_query(&driver, "bob", 1);
    assert_eq!(
        requests(&world),
        ["ROUTE db=- imp=bob", "RUN db=neo4j w RETURN 1"]
    );
}

#[test]
fn the_home_database_cache_is_off_while_a_member_lacks_server_side_routing() {
    let world = ssr_cluster();
    world.lock().unwrap().member("a").ssr = false;
    let driver = driver(&world);
    home_query(&driver, "alice", 1);
    clear_log(&world);
    home_query(&driver, "alice", 1);
    assert_eq!(
        requests(&world),
        ["ROUTE db=- imp=alice", "RUN db=alice-db w RETURN 1"],
        "resolved again: a connection to `a` (no SSR) is open"
    );
}

// ---------------------------------------------------------------------------------------------
// Hostile routers.

/// ROUTE replies a broken or hostile router may send, and the error the driver must report
/// for that router.
/// Whether a router's error is the one expected.
type Expected = fn(&RoutingTableError) -> bool;

fn hostile_replies() -> Vec<(&'static str, Map, Expected)> {
    let good = |role: &str| server_entry(role, list(&members(&["b"])));
    let huge: Vec<String> = (0..10_000)
        .map(|i| format!("host-{i}.example:7687"))
        .collect();
    let mut no_rt_fields = Map::new();
    no_rt_fields.insert("rt", Map::new());
    let mut no_servers = route_reply(300, "neo4j", Vec::new());
    if let Some(Value::Map(rt)) = no_servers.get("rt").cloned() {
        let mut rt = rt;
        rt.remove("servers");
        no_servers.insert("rt", rt);
    }
    let mut unnamed_role = Map::new();
    unnamed_role.insert("addresses", list(&members(&["b"])));
    vec![
        (
            "negative ttl",
            route_reply(
                -1,
                "neo4j",
                vec![good("ROUTE"), good("READ"), good("WRITE")],
            ),
            |e| {
                matches!(
                    e,
                    RoutingTableError::Malformed(quiver_bolt::RoutingTableError::NegativeTtl(-1))
                )
            },
        ),
        (
            "only unknown roles",
            route_reply(
                300,
                "neo4j",
                vec![server_entry("LEADER", list(&members(&["b"])))],
            ),
            |e| matches!(e, RoutingTableError::NoRouters),
        ),
        (
            "10,000 addresses",
            route_reply(
                300,
                "neo4j",
                vec![
                    good("ROUTE"),
                    server_entry("READ", list(&huge)),
                    good("WRITE"),
                ],
            ),
            |e| {
                matches!(
                    e,
                    RoutingTableError::Malformed(
                        quiver_bolt::RoutingTableError::TooManyAddresses { .. }
                    )
                )
            },
        ),
        ("no rt", Map::new(), |e| {
            matches!(
                e,
                RoutingTableError::Malformed(quiver_bolt::RoutingTableError::Missing("rt"))
            )
        }),
        ("rt without fields", no_rt_fields, |e| {
            matches!(
                e,
                RoutingTableError::Malformed(quiver_bolt::RoutingTableError::Missing("ttl"))
            )
        }),
        ("no servers", no_servers, |e| {
            matches!(
                e,
                RoutingTableError::Malformed(quiver_bolt::RoutingTableError::Missing("servers"))
            )
        }),
        (
            "a server without a role",
            route_reply(300, "neo4j", vec![good("ROUTE"), Value::Map(unnamed_role)]),
            |e| {
                matches!(
                    e,
                    RoutingTableError::Malformed(quiver_bolt::RoutingTableError::Missing(
                        "servers[].role"
                    ))
                )
            },
        ),
        (
            "no readers",
            route_reply(300, "neo4j", vec![good("ROUTE"), good("WRITE")]),
            |e| matches!(e, RoutingTableError::NoReaders),
        ),
        (
            "an invalid address",
            route_reply(
                300,
                "neo4j",
                vec![
                    good("ROUTE"),
                    server_entry("READ", Value::from(vec!["b:port"])),
                    good("WRITE"),
                ],
            ),
            |e| matches!(e, RoutingTableError::InvalidAddress(a) if a == "b:port"),
        ),
    ]
}

#[test]
fn a_hostile_router_reply_is_that_routers_typed_failure_and_the_next_router_is_asked() {
    for (what, reply, expected) in hostile_replies() {
        let world = World::three_members();
        {
            let mut w = world.lock().unwrap();
            w.dns
                .insert("cluster".into(), vec![ip("10.0.0.1"), ip("10.0.0.3")]);
            w.member("a").route_reply = Some(reply.clone());
        }
        let driver = driver(&world);
        let (_, attempts) = read(&driver, "neo4j").unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(attempts, 1, "{what}");
        let routes = logged(&world, "ROUTE");
        assert_eq!(
            routes,
            ["a: ROUTE db=neo4j imp=-", "c: ROUTE db=neo4j imp=-"],
            "{what}"
        );
        let table = driver.routing_table(Some("neo4j")).unwrap();
        assert_eq!(table.readers, addresses(&["b", "c"]), "{what}: c's table");
        let (total, _) = driver.pool_sizes();
        assert!(total <= 3, "{what}: {total} connections");
        assert_eq!(
            driver.pool_metrics(&Address::new("host-0.example", 7687)),
            None,
            "{what}"
        );

        // Every router hostile: ServiceUnavailable, with each router's typed error.
        let world = World::three_members();
        {
            let mut w = world.lock().unwrap();
            w.dns
                .insert("cluster".into(), vec![ip("10.0.0.1"), ip("10.0.0.3")]);
            w.member("a").route_reply = Some(reply.clone());
            w.member("c").route_reply = Some(reply);
        }
        let driver = driver_for(&world, URI);
        let error = block_on(async {
            let mut session = driver.session_with(SessionConfig::new().with_database("neo4j"));
            session.run("RETURN 1").await.map(|_| ())
        })
        .unwrap_err();
        let Error::ServiceUnavailable { source, .. } = &error else {
            panic!("{what}: {error:?}");
        };
        let discovery = source
            .as_deref()
            .and_then(|s| s.downcast_ref::<DiscoveryFailure>())
            .unwrap_or_else(|| panic!("{what}: {error:?}"));
        assert_eq!(discovery.database.as_deref(), Some("neo4j"));
        let routers: Vec<&str> = discovery.failures.iter().map(|(r, _)| r.as_str()).collect();
        assert_eq!(routers, ["10.0.0.1:7687", "10.0.0.3:7687"], "{what}");
        for (router, failure) in &discovery.failures {
            match failure {
                Error::Routing(e) => assert!(expected(e), "{what}: {router}: {e:?}"),
                other => panic!("{what}: {router}: {other:?}"),
            }
        }
        assert!(error.is_retryable(), "{what}");
    }
}

#[test]
fn unknown_roles_in_a_route_reply_are_skipped() {
    let world = World::three_members();
    {
        let mut w = world.lock().unwrap();
        let servers = vec![
            server_entry("ROUTE", list(&members(&["a"]))),
            server_entry("READ", list(&members(&["b"]))),
            server_entry("FOLLOWER_OF_THE_FUTURE", list(&members(&["c"]))),
            server_entry("WRITE", list(&members(&["a"]))),
        ];
        w.member("a").route_reply = Some(route_reply(300, "neo4j", servers));
    }
    let driver = driver(&world);
    assert_eq!(read(&driver, "neo4j").unwrap(), ("b".into(), 1));
    let table = driver.routing_table(Some("neo4j")).unwrap();
    assert_eq!(
        (table.routers, table.readers, table.writers),
        (addresses(&["a"]), addresses(&["b"]), addresses(&["a"]))
    );
}
