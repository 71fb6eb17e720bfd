//! Create a few people and read their names back with `execute_query`.
//!
//! `cargo run -p quiver-tokio --example execute_query` (needs a Neo4j: `cargo xtask server start neo4j-5`;
//! reads NEO4J_URI / NEO4J_USER / NEO4J_PASSWORD).

use quiver_tokio::{AuthToken, Driver, RoutingControl};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), quiver_tokio::Error> {
    let uri = std::env::var("NEO4J_URI").unwrap_or_else(|_| "bolt://127.0.0.1:7687".into());
    let user = std::env::var("NEO4J_USER").unwrap_or_else(|_| "neo4j".into());
    let password =
        std::env::var("NEO4J_PASSWORD").unwrap_or_else(|_| "quiver-test-password".into());
    let driver = Driver::new(&uri, AuthToken::basic(user, password))?;

    driver
        .execute_query("UNWIND $names AS name MERGE (:ExamplePerson {name: name})")
        .param("names", vec!["Alice", "Bob", "Carol"])
        .await?;
    let result = driver
        .execute_query("MATCH (p:ExamplePerson) RETURN p.name AS name ORDER BY name")
        .routing(RoutingControl::Read)
        .await?;
    for record in &result.records {
        let name: String = record.get("name")?;
        println!("{name}");
    }
    println!(
        "{} names from {} (Bolt {}.{})",
        result.records.len(),
        result.summary.server.agent,
        result.summary.server.protocol_version.0,
        result.summary.server.protocol_version.1
    );
    driver
        .execute_query("MATCH (p:ExamplePerson) DELETE p")
        .await?;
    driver.close().await;
    Ok(())
}
