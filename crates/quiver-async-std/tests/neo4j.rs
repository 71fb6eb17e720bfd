//! The shared integration suite (written once in quiver-smol's `tests/shared`) on async-std,
//! against a real Neo4j.

#[macro_use]
#[path = "../../quiver-smol/tests/shared/mod.rs"]
mod shared;

shared_suite!(quiver_async_std::AsyncStdRuntime, async_std::task::block_on);

/// Driver futures spawned as async-std tasks (moved to its worker threads).
#[async_std::test]
async fn queries_run_in_spawned_tasks() {
    let driver = quiver_async_std::Driver::new(&shared::uri(), shared::auth()).unwrap();
    let tasks: Vec<_> = (0..8i64)
        .map(|i| {
            let driver = driver.clone();
            async_std::task::spawn(async move {
                let r = driver
                    .execute_query("RETURN $i * 2 AS double")
                    .param("i", i)
                    .await?;
                r.records[0].get::<i64>("double")
            })
        })
        .collect();
    let mut doubles = Vec::new();
    for task in tasks {
        doubles.push(task.await.unwrap());
    }
    assert_eq!(doubles, (0..8).map(|i| i * 2).collect::<Vec<_>>());
}
