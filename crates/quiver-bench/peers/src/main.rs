//! The other Rust drivers in the cross-driver benchmark: `rust-peers neo4rs <tokio-ct|tokio-mt>
//! <workload> …` and `rust-peers neo4j <workload> …` (the protocol: `../src/peer.rs`).
//!
//! Each is used the way its documentation shows. neo4rs (0.8) has no sessions and no transaction
//! functions: `Graph::execute` runs an auto-commit query on a pooled connection, and the nearest
//! equivalent of `execute_read`/`execute_write` is `start_txn` + query + `commit` (no retries).
//! The `neo4j` crate is synchronous: its concurrent transaction functions are threads, each with
//! its own session, running `transaction().run_with_retry(..)`.

#[path = "../../src/peer.rs"]
#[allow(dead_code)]
mod peer;

use std::sync::Arc;
use std::time::{Duration, Instant};

use peer::{Args, Cypher, Ids, Report, cpu_now};

fn fail(what: &str, error: impl std::fmt::Debug) -> ! {
    eprintln!("rust-peers: {what}: {error:?}");
    std::process::exit(1)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let driver = args.next().unwrap_or_default();
    let report = match driver.as_str() {
        "neo4rs" => {
            let flavour = args.next().unwrap_or_default();
            let args = Args::parse(args);
            let runtime = match flavour.as_str() {
                "tokio-ct" => tokio::runtime::Builder::new_current_thread(),
                "tokio-mt" => tokio::runtime::Builder::new_multi_thread(),
                other => fail("runtime (tokio-ct or tokio-mt)", other),
            }
            .enable_all()
            .build()
            .unwrap_or_else(|e| fail("tokio", e));
            runtime.block_on(neo4rs_peer::run(&args))
        }
        "neo4j" => neo4j_peer::run(&Args::parse(args)),
        other => fail("driver (neo4rs or neo4j)", other),
    };
    report.print_and_exit()
}

mod neo4rs_peer {
    use super::*;
    use neo4rs::{ConfigBuilder, Graph, Row, query};

    #[derive(serde::Deserialize)]
    struct Tagged {
        id: i64,
        #[allow(dead_code)]
        tag: String,
    }

    fn stream_row(row: &Row) -> i64 {
        let i: i64 = row.get("i").unwrap_or_else(|e| fail("field i", e));
        let s: String = row.get("s").unwrap_or_else(|e| fail("field s", e));
        let m: Tagged = row.get("m").unwrap_or_else(|e| fail("field m", e));
        i + s.len() as i64 + m.id
    }

    async fn connect(args: &Args) -> Graph {
        let config = ConfigBuilder::default()
            .uri(args.uri.as_str())
            .user(args.user.as_str())
            .password(args.password.as_str())
            // One connection per concurrent transaction (neo4rs's default is 16 too).
            .max_connections(args.concurrency.max(16) as usize)
            .build()
            .unwrap_or_else(|e| fail("config", e));
        Graph::connect(config)
            .await
            .unwrap_or_else(|e| fail("connect", e))
    }

    async fn return_1(graph: &Graph) {
        let mut rows = graph
            .execute(query(Cypher::RETURN_1))
            .await
            .unwrap_or_else(|e| fail("RETURN 1", e));
        while let Some(row) = rows.next().await.unwrap_or_else(|e| fail("RETURN 1", e)) {
            std::hint::black_box(row);
        }
    }

    pub(super) async fn run(args: &Args) -> Report {
        if args.workload == "connect" {
            let (cpu_start, wall) = (cpu_now(), Instant::now());
            let graph = connect(args).await;
            return_1(&graph).await;
            return Report {
                units: 1,
                wall: wall.elapsed(),
                cpu_start,
            };
        }
        let graph = connect(args).await;
        return_1(&graph).await;
        match args.workload.as_str() {
            "return1" => {
                for _ in 0..args.warmup {
                    return_1(&graph).await;
                }
                let (cpu_start, wall) = (cpu_now(), Instant::now());
                for _ in 0..args.count {
                    return_1(&graph).await;
                }
                Report {
                    units: args.count,
                    wall: wall.elapsed(),
                    cpu_start,
                }
            }
            "stream" => {
                let stream = async || {
                    let mut rows = graph
                        .execute(query(Cypher::STREAM).param("rows", args.count as i64))
                        .await
                        .unwrap_or_else(|e| fail("stream", e));
                    let (mut count, mut checksum) = (0u64, 0i64);
                    while let Some(row) = rows.next().await.unwrap_or_else(|e| fail("stream", e)) {
                        checksum += stream_row(&row);
                        count += 1;
                    }
                    assert_eq!(count, args.count, "rows streamed");
                    std::hint::black_box(checksum);
                    count
                };
                for _ in 0..args.warmup {
                    stream().await;
                }
                let (cpu_start, wall) = (cpu_now(), Instant::now());
                let units = stream().await;
                Report {
                    units,
                    wall: wall.elapsed(),
                    cpu_start,
                }
            }
            workload @ ("tx-read" | "tx-write") => {
                let write = workload == "tx-write";
                let phase = async |seed: u64, millis: u64| {
                    let deadline = Instant::now() + Duration::from_millis(millis);
                    let workers: Vec<_> = (0..args.concurrency)
                        .map(|worker| {
                            let graph = graph.clone();
                            let mut ids = Ids::new(seed + worker, args.persons);
                            tokio::spawn(async move {
                                let mut done = 0u64;
                                while Instant::now() < deadline {
                                    let id = ids.next_id();
                                    let mut txn = graph
                                        .start_txn()
                                        .await
                                        .unwrap_or_else(|e| fail("begin", e));
                                    let cypher = if write {
                                        Cypher::WRITE_PERSON
                                    } else {
                                        Cypher::READ_PERSON
                                    };
                                    let mut rows = txn
                                        .execute(query(cypher).param("id", id))
                                        .await
                                        .unwrap_or_else(|e| fail("transaction", e));
                                    while let Some(row) = rows
                                        .next(txn.handle())
                                        .await
                                        .unwrap_or_else(|e| fail("transaction", e))
                                    {
                                        if write {
                                            std::hint::black_box(row.get::<i64>("score").ok());
                                        } else {
                                            std::hint::black_box(row.get::<String>("name").ok());
                                        }
                                    }
                                    txn.commit().await.unwrap_or_else(|e| fail("commit", e));
                                    done += 1;
                                }
                                done
                            })
                        })
                        .collect();
                    let mut total = 0;
                    for worker in workers {
                        total += worker.await.unwrap_or_else(|e| fail("worker", e));
                    }
                    total
                };
                phase(1000, args.warmup).await;
                let (cpu_start, wall) = (cpu_now(), Instant::now());
                let units = phase(2000, args.count).await;
                Report {
                    units,
                    wall: wall.elapsed(),
                    cpu_start,
                }
            }
            other => fail("unknown workload", other),
        }
    }
}

mod neo4j_peer {
    use super::*;
    use neo4j::ValueReceive;
    use neo4j::driver::auth::AuthToken;
    use neo4j::driver::Record;
    use neo4j::driver::{ConnectionConfig, Driver, DriverConfig, RoutingControl};
    use neo4j::retry::ExponentialBackoff;
    use neo4j::session::SessionConfig;
    use neo4j::value_map;

    fn connect(args: &Args) -> Driver {
        let connection = ConnectionConfig::try_from(args.uri.as_str())
            .unwrap_or_else(|e| fail("uri", e));
        Driver::new(
            connection,
            DriverConfig::new().with_auth(Arc::new(AuthToken::new_basic_auth(
                args.user.as_str(),
                args.password.as_str(),
            ))),
        )
    }

    fn return_1(driver: &Driver, session: &mut neo4j::session::Session) {
        let _ = driver;
        session
            .auto_commit(Cypher::RETURN_1)
            .with_receiver(|stream| {
                for record in stream {
                    std::hint::black_box(record?);
                }
                Ok(())
            })
            .run()
            .unwrap_or_else(|e| fail("RETURN 1", e));
    }

    fn stream_row(record: &Record) -> i64 {
        let i = match record.value("i") {
            Some(ValueReceive::Integer(i)) => i,
            other => fail("field i", other),
        };
        let s = match record.value("s") {
            Some(ValueReceive::String(s)) => s.len() as i64,
            other => fail("field s", other),
        };
        let m = match record.value("m") {
            Some(ValueReceive::Map(m)) => match m.get("id") {
                Some(ValueReceive::Integer(id)) => *id,
                other => fail("field m.id", other),
            },
            other => fail("field m", other),
        };
        i + s + m
    }

    pub(super) fn run(args: &Args) -> Report {
        if args.workload == "connect" {
            let (cpu_start, wall) = (cpu_now(), Instant::now());
            let driver = connect(args);
            return_1(&driver, &mut driver.session(SessionConfig::new()));
            return Report {
                units: 1,
                wall: wall.elapsed(),
                cpu_start,
            };
        }
        let driver = connect(args);
        let mut session = driver.session(SessionConfig::new());
        return_1(&driver, &mut session);
        match args.workload.as_str() {
            "return1" => {
                for _ in 0..args.warmup {
                    return_1(&driver, &mut session);
                }
                let (cpu_start, wall) = (cpu_now(), Instant::now());
                for _ in 0..args.count {
                    return_1(&driver, &mut session);
                }
                Report {
                    units: args.count,
                    wall: wall.elapsed(),
                    cpu_start,
                }
            }
            "stream" => {
                let mut stream = || {
                    session
                        .auto_commit(Cypher::STREAM)
                        .with_parameters(value_map!({"rows": args.count as i64}))
                        .with_receiver(|stream| {
                            let (mut count, mut checksum) = (0u64, 0i64);
                            for record in stream {
                                checksum += stream_row(&record?);
                                count += 1;
                            }
                            std::hint::black_box(checksum);
                            Ok(count)
                        })
                        .run()
                        .unwrap_or_else(|e| fail("stream", e))
                };
                for _ in 0..args.warmup {
                    stream();
                }
                let (cpu_start, wall) = (cpu_now(), Instant::now());
                let units = stream();
                assert_eq!(units, args.count, "rows streamed");
                Report {
                    units,
                    wall: wall.elapsed(),
                    cpu_start,
                }
            }
            workload @ ("tx-read" | "tx-write") => {
                let write = workload == "tx-write";
                let phase = |seed: u64, millis: u64| {
                    let deadline = Instant::now() + Duration::from_millis(millis);
                    std::thread::scope(|scope| {
                        let workers: Vec<_> = (0..args.concurrency)
                            .map(|worker| {
                                let driver = &driver;
                                let mut ids = Ids::new(seed + worker, args.persons);
                                scope.spawn(move || {
                                    let mut session = driver.session(SessionConfig::new());
                                    let mut done = 0u64;
                                    while Instant::now() < deadline {
                                        let id = ids.next_id();
                                        let (cypher, mode) = if write {
                                            (Cypher::WRITE_PERSON, RoutingControl::Write)
                                        } else {
                                            (Cypher::READ_PERSON, RoutingControl::Read)
                                        };
                                        session
                                            .transaction()
                                            .with_routing_control(mode)
                                            .run_with_retry(ExponentialBackoff::default(), |tx| {
                                                let mut result = tx
                                                    .query(cypher)
                                                    .with_parameters(value_map!({"id": id}))
                                                    .run()?;
                                                let record = result
                                                    .single()
                                                    .unwrap_or_else(|e| fail("single", e))?;
                                                std::hint::black_box(record);
                                                drop(result);
                                                tx.commit()
                                            })
                                            .unwrap_or_else(|e| fail("transaction", e));
                                        done += 1;
                                    }
                                    done
                                })
                            })
                            .collect();
                        workers
                            .into_iter()
                            .map(|w| w.join().unwrap_or_else(|_| fail("worker", "panicked")))
                            .sum::<u64>()
                    })
                };
                phase(1000, args.warmup);
                let (cpu_start, wall) = (cpu_now(), Instant::now());
                let units = phase(2000, args.count);
                Report {
                    units,
                    wall: wall.elapsed(),
                    cpu_start,
                }
            }
            other => fail("unknown workload", other),
        }
    }
}
