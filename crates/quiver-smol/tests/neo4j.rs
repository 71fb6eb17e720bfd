//! The shared integration suite (`tests/shared`) on smol, against a real Neo4j.

#[macro_use]
mod shared;

shared_suite!(quiver_smol::SmolRuntime, smol::block_on);

/// The same driver also runs on a multi-threaded smol executor, its futures moved between
/// threads.
#[test]
fn queries_run_on_a_multi_threaded_executor() {
    let executor = std::sync::Arc::new(smol::Executor::new());
    let (stop, stopped) = smol::channel::unbounded::<()>();
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let executor = executor.clone();
            let stopped = stopped.clone();
            std::thread::spawn(move || smol::block_on(executor.run(stopped.recv())))
        })
        .collect();
    let driver = quiver_smol::Driver::new(&shared::uri(), shared::auth()).unwrap();
    let tasks: Vec<_> = (0..8i64)
        .map(|i| {
            let driver = driver.clone();
            executor.spawn(async move {
                let r = driver
                    .execute_query("RETURN $i * 2 AS double")
                    .param("i", i)
                    .await?;
                r.records[0].get::<i64>("double")
            })
        })
        .collect();
    let doubles: Vec<i64> = smol::block_on(async {
        let mut doubles = Vec::new();
        for task in tasks {
            doubles.push(task.await.unwrap());
        }
        doubles
    });
    assert_eq!(doubles, (0..8).map(|i| i * 2).collect::<Vec<_>>());
    drop(stop);
    for thread in threads {
        let _ = thread.join();
    }
}
