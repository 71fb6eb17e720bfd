//! `Driver::execute_query`: create a few people, then return their names — no async anywhere.
//!
//! `cargo xtask server start neo4j-5 && cargo run -p quiver-blocking --example execute_query`
//! (NEO4J_URI / NEO4J_USER / NEO4J_PASSWORD override the local test server's defaults).

use quiver_blocking::{AuthToken, Driver, RoutingControl};

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn main() -> Result<(), quiver_blocking::Error> {
    let driver = Driver::new(
        &env("NEO4J_URI", "bolt://127.0.0.1:7687"),
        AuthToken::basic(
            env("NEO4J_USER", "neo4j"),
            env("NEO4J_PASSWORD", "quiver-test-password"),
        ),
    )?;
    driver
        .execute_query("UNWIND $names AS name MERGE (:ExamplePerson {name: name})")
        .param("names", vec!["Alice", "Bob", "Carol"])
        .run()?;
    let result = driver
        .execute_query("MATCH (p:ExamplePerson) RETURN p.name AS name ORDER BY name")
        .routing(RoutingControl::Read)
        .run()?;
    for record in &result.records {
        println!("{}", record.get::<String>("name")?);
    }
    println!(
        "({} records in {:?})",
        result.records.len(),
        result.summary.result_available_after
    );
    driver
        .execute_query("MATCH (p:ExamplePerson) DELETE p")
        .run()?;
    Ok(())
}
