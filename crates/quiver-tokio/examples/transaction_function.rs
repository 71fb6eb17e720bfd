//! A session whose `execute_read` runs a transaction function (retried on transient errors).
//!
//! `cargo run -p quiver-tokio --example transaction_function`

use quiver_tokio::{AuthToken, Driver, Query, SessionConfig};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), quiver_tokio::Error> {
    let uri = std::env::var("NEO4J_URI").unwrap_or_else(|_| "bolt://127.0.0.1:7687".into());
    let user = std::env::var("NEO4J_USER").unwrap_or_else(|_| "neo4j".into());
    let password =
        std::env::var("NEO4J_PASSWORD").unwrap_or_else(|_| "quiver-test-password".into());
    let driver = Driver::new(&uri, AuthToken::basic(user, password))?;

    let mut writer = driver.session();
    writer
        .execute_write(|tx| async move {
            tx.run(
                Query::new("MERGE (:ExampleCity {name: $name, population: $population})")
                    .param("name", "Malmö")
                    .param("population", 357_377),
            )
            .await?
            .consume()
            .await
        })
        .await?;

    // The reader starts from the writer's bookmarks: it is guaranteed to see the write.
    let mut reader =
        driver.session_with(SessionConfig::new().with_bookmarks(writer.last_bookmarks()));
    let cities: Vec<(String, i64)> = reader
        .execute_read(|tx| async move {
            let mut result = tx
                .run("MATCH (c:ExampleCity) RETURN c.name AS name, c.population AS population")
                .await?;
            let mut cities = Vec::new();
            while let Some(record) = result.next().await {
                let record = record?;
                cities.push((record.get("name")?, record.get("population")?));
            }
            Ok(cities)
        })
        .await?;
    for (name, population) in cities {
        println!("{name}: {population}");
    }
    driver
        .execute_query("MATCH (c:ExampleCity) DELETE c")
        .await?;
    Ok(())
}
