//! Quiver's peer in the cross-driver benchmark: `quiver-peer <runtime> <workload> <count> <warmup>
//! <concurrency> <persons>`, runtime `tokio-ct` (current-thread), `tokio-mt` (multi-thread, what
//! `#[tokio::main]` builds), `smol` or `blocking` (and `tokio-mt-spawned`, see below). See `quiver_bench::peer` for the protocol.

use std::future::Future;
use std::time::{Duration, Instant};

use quiver_bench::peer::{Args, Cypher, Ids, Report, cpu_now};
use quiver_driver::{AuthToken, Driver, Query, Record, Runtime, Value};

fn main() {
    let mut args = std::env::args().skip(1);
    let runtime = args.next().unwrap_or_default();
    let args = Args::parse(args);
    let report = match runtime.as_str() {
        "tokio-ct" => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime")
            .block_on(run_async(&args, quiver_tokio::Driver::new, TokioSpawner)),
        "tokio-mt" => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("tokio runtime")
            .block_on(run_async(&args, quiver_tokio::Driver::new, TokioSpawner)),
        // The same, with the work in a spawned task (on a worker thread) instead of in
        // `block_on`'s future (on the main thread, which each reply must wake from a worker):
        // not in the published set, for the tokio adapter's notes on runtime flavours.
        "tokio-mt-spawned" => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            runtime.block_on(async move {
                tokio::spawn(return1_in_task(args))
                    .await
                    .expect("work task panicked")
            })
        }
        "smol" => {
            let executor: smol::LocalExecutor<'static> = smol::LocalExecutor::new();
            smol::block_on(executor.run(run_async(
                &args,
                quiver_smol::Driver::new,
                SmolSpawner(&executor),
            )))
        }
        "blocking" => run_blocking(&args),
        other => {
            eprintln!("unknown runtime {other:?}: tokio-ct, tokio-mt, smol or blocking");
            std::process::exit(2)
        }
    };
    report.print_and_exit()
}

/// Runs the concurrent transaction functions of `tx-*` as tasks of the runtime at hand.
trait Spawner {
    async fn join_all<F>(&self, tasks: Vec<F>) -> Vec<u64>
    where
        F: Future<Output = u64> + Send + 'static;
}

struct TokioSpawner;

impl Spawner for TokioSpawner {
    async fn join_all<F>(&self, tasks: Vec<F>) -> Vec<u64>
    where
        F: Future<Output = u64> + Send + 'static,
    {
        let handles: Vec<_> = tasks.into_iter().map(tokio::spawn).collect();
        let mut done = Vec::new();
        for handle in handles {
            done.push(handle.await.expect("worker task panicked"));
        }
        done
    }
}

/// smol's tasks on a local executor driven by `smol::block_on`: one thread, like tokio-ct.
struct SmolSpawner<'a>(&'a smol::LocalExecutor<'static>);

impl Spawner for SmolSpawner<'_> {
    async fn join_all<F>(&self, tasks: Vec<F>) -> Vec<u64>
    where
        F: Future<Output = u64> + Send + 'static,
    {
        let handles: Vec<_> = tasks.into_iter().map(|t| self.0.spawn(t)).collect();
        let mut done = Vec::new();
        for handle in handles {
            done.push(handle.await);
        }
        done
    }
}

fn fail(what: &str, error: impl std::fmt::Display) -> ! {
    eprintln!("quiver-peer: {what}: {error}");
    std::process::exit(1)
}

/// Reads every field of a `stream` row; returns what goes into the checksum.
fn stream_row(record: &Record) -> i64 {
    let i: i64 = record.get("i").unwrap_or_else(|e| fail("field i", e));
    let s = match record.value("s") {
        Some(Value::String(s)) => s.len() as i64,
        other => fail("field s", format!("{other:?}")),
    };
    let m = match record.value("m") {
        Some(Value::Map(m)) => match m.get("id") {
            Some(Value::Integer(id)) => *id,
            other => fail("field m.id", format!("{other:?}")),
        },
        other => fail("field m", format!("{other:?}")),
    };
    i + s + m
}

async fn run_async<R, S>(
    args: &Args,
    new_driver: fn(&str, AuthToken) -> quiver_driver::Result<Driver<R>>,
    spawner: S,
) -> Report
where
    R: Runtime + Send + Sync + 'static,
    S: Spawner,
{
    let auth = AuthToken::basic(&args.user, &args.password);
    if args.workload == "connect" {
        let (cpu_start, wall) = (cpu_now(), Instant::now());
        let driver = new_driver(&args.uri, auth).unwrap_or_else(|e| fail("driver", e));
        let mut session = driver.session();
        let mut result = session
            .run(Cypher::RETURN_1)
            .await
            .unwrap_or_else(|e| fail("RETURN 1", e));
        while let Some(record) = result.next().await {
            record.unwrap_or_else(|e| fail("RETURN 1", e));
        }
        return Report {
            units: 1,
            wall: wall.elapsed(),
            cpu_start,
        };
    }
    let driver = new_driver(&args.uri, auth).unwrap_or_else(|e| fail("driver", e));
    driver
        .verify_connectivity()
        .await
        .unwrap_or_else(|e| fail("connect", e));
    match args.workload.as_str() {
        "return1" => {
            let mut session = driver.session();
            let mut lock_step = async |queries: u64| {
                for _ in 0..queries {
                    let mut result = session
                        .run(Cypher::RETURN_1)
                        .await
                        .unwrap_or_else(|e| fail("RETURN 1", e));
                    while let Some(record) = result.next().await {
                        record.unwrap_or_else(|e| fail("RETURN 1", e));
                    }
                }
            };
            lock_step(args.warmup).await;
            let (cpu_start, wall) = (cpu_now(), Instant::now());
            lock_step(args.count).await;
            Report {
                units: args.count,
                wall: wall.elapsed(),
                cpu_start,
            }
        }
        "stream" => {
            let mut session = driver.session();
            let rows = args.count as i64;
            let mut stream = async || {
                let mut result = session
                    .run(Query::new(Cypher::STREAM).param("rows", rows))
                    .await
                    .unwrap_or_else(|e| fail("stream", e));
                let (mut count, mut checksum) = (0u64, 0i64);
                while let Some(record) = result.next().await {
                    checksum += stream_row(&record.unwrap_or_else(|e| fail("stream", e)));
                    count += 1;
                }
                assert_eq!(count, rows as u64, "rows streamed");
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
                let tasks = (0..args.concurrency)
                    .map(|worker| {
                        transactions(
                            driver.clone(),
                            write,
                            deadline,
                            Ids::new(seed + worker, args.persons),
                        )
                    })
                    .collect();
                spawner.join_all(tasks).await.into_iter().sum::<u64>()
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

/// One worker of `tx-*`: transaction functions on random persons until `deadline`; how many.
async fn transactions<R: Runtime + Send + Sync + 'static>(
    driver: Driver<R>,
    write: bool,
    deadline: Instant,
    mut ids: Ids,
) -> u64 {
    let mut session = driver.session();
    let mut done = 0;
    while Instant::now() < deadline {
        let id = ids.next_id();
        let work = async |tx: quiver_driver::Transaction<R>| {
            let query = if write {
                Cypher::WRITE_PERSON
            } else {
                Cypher::READ_PERSON
            };
            let record = tx
                .run(Query::new(query).param("id", id))
                .await?
                .single()
                .await?;
            if write {
                record.get::<i64>("score").map(drop)
            } else {
                record.get::<String>("name").map(drop)
            }
        };
        let outcome = if write {
            session.execute_write(work).await
        } else {
            session.execute_read(work).await
        };
        outcome.unwrap_or_else(|e| fail("transaction function", e));
        done += 1;
    }
    done
}

/// `return1` alone, for `tokio-mt-spawned` (a task must be `Send`; this keeps it simple).
async fn return1_in_task(args: Args) -> Report {
    if args.workload != "return1" {
        fail("tokio-mt-spawned runs", "return1 only");
    }
    let driver = quiver_tokio::Driver::new(&args.uri, AuthToken::basic(&args.user, &args.password))
        .unwrap_or_else(|e| fail("driver", e));
    let mut session = driver.session();
    let mut lock_step = async |queries: u64| {
        for _ in 0..queries {
            let mut result = session
                .run(Cypher::RETURN_1)
                .await
                .unwrap_or_else(|e| fail("RETURN 1", e));
            while let Some(record) = result.next().await {
                record.unwrap_or_else(|e| fail("RETURN 1", e));
            }
        }
    };
    lock_step(args.warmup).await;
    let (cpu_start, wall) = (cpu_now(), Instant::now());
    lock_step(args.count).await;
    Report {
        units: args.count,
        wall: wall.elapsed(),
        cpu_start,
    }
}

fn run_blocking(args: &Args) -> Report {
    use quiver_blocking::Driver;
    let auth = AuthToken::basic(&args.user, &args.password);
    let lock_step = |session: &mut quiver_blocking::Session, queries: u64| {
        for _ in 0..queries {
            for record in session
                .run(Cypher::RETURN_1)
                .unwrap_or_else(|e| fail("RETURN 1", e))
            {
                record.unwrap_or_else(|e| fail("RETURN 1", e));
            }
        }
    };
    if args.workload == "connect" {
        let (cpu_start, wall) = (cpu_now(), Instant::now());
        let driver = Driver::new(&args.uri, auth).unwrap_or_else(|e| fail("driver", e));
        lock_step(&mut driver.session(), 1);
        return Report {
            units: 1,
            wall: wall.elapsed(),
            cpu_start,
        };
    }
    let driver = Driver::new(&args.uri, auth).unwrap_or_else(|e| fail("driver", e));
    driver
        .verify_connectivity()
        .unwrap_or_else(|e| fail("connect", e));
    match args.workload.as_str() {
        "return1" => {
            let mut session = driver.session();
            lock_step(&mut session, args.warmup);
            let (cpu_start, wall) = (cpu_now(), Instant::now());
            lock_step(&mut session, args.count);
            Report {
                units: args.count,
                wall: wall.elapsed(),
                cpu_start,
            }
        }
        "stream" => {
            let mut session = driver.session();
            let rows = args.count as i64;
            let mut stream = || {
                let (mut count, mut checksum) = (0u64, 0i64);
                for record in session
                    .run(Query::new(Cypher::STREAM).param("rows", rows))
                    .unwrap_or_else(|e| fail("stream", e))
                {
                    checksum += stream_row(&record.unwrap_or_else(|e| fail("stream", e)));
                    count += 1;
                }
                assert_eq!(count, rows as u64, "rows streamed");
                std::hint::black_box(checksum);
                count
            };
            for _ in 0..args.warmup {
                stream();
            }
            let (cpu_start, wall) = (cpu_now(), Instant::now());
            let units = stream();
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
                            let driver = driver.clone();
                            let mut ids = Ids::new(seed + worker, args.persons);
                            scope.spawn(move || {
                                let mut session = driver.session();
                                let mut done = 0u64;
                                while Instant::now() < deadline {
                                    let id = ids.next_id();
                                    let work = |tx: &mut quiver_blocking::Transaction| {
                                        let query = if write {
                                            Cypher::WRITE_PERSON
                                        } else {
                                            Cypher::READ_PERSON
                                        };
                                        let record =
                                            tx.run(Query::new(query).param("id", id))?.single()?;
                                        if write {
                                            record.get::<i64>("score").map(drop)
                                        } else {
                                            record.get::<String>("name").map(drop)
                                        }
                                    };
                                    let outcome = if write {
                                        session.execute_write(work)
                                    } else {
                                        session.execute_read(work)
                                    };
                                    outcome.unwrap_or_else(|e| fail("transaction function", e));
                                    done += 1;
                                }
                                done
                            })
                        })
                        .collect();
                    workers
                        .into_iter()
                        .map(|w| w.join().expect("worker thread panicked"))
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
