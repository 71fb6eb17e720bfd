//! A session whose `execute_write`/`execute_read` run transaction functions: the driver commits,
//! and retries the function on transient errors (deadlocks, leader changes, lost connections).
//!
//! `cargo xtask server start neo4j-5 && cargo run -p quiver-smol --example transaction_function`

use quiver_smol::{AuthToken, Driver, Query};

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn main() -> Result<(), quiver_smol::Error> {
    smol::block_on(async {
        let driver = Driver::new(
            &env("NEO4J_URI", "bolt://127.0.0.1:7687"),
            AuthToken::basic(
                env("NEO4J_USER", "neo4j"),
                env("NEO4J_PASSWORD", "quiver-test-password"),
            ),
        )?;
        let mut session = driver.session();
        let transfer = Query::new(
            "MERGE (a:ExampleAccount {id: 1}) ON CREATE SET a.balance = 100
             MERGE (b:ExampleAccount {id: 2}) ON CREATE SET b.balance = 0
             SET a.balance = a.balance - $amount, b.balance = b.balance + $amount",
        )
        .param("amount", 30);
        // The function gets the transaction by value and may run more than once: keep it free of
        // side effects outside the database.
        session
            .execute_write(|tx| {
                let transfer = transfer.clone();
                async move { tx.run(transfer).await?.consume().await }
            })
            .await?;
        let balances: Vec<(i64, i64)> = session
            .execute_read(|tx| async move {
                let records = tx
                    .run("MATCH (a:ExampleAccount) RETURN a.id AS id, a.balance AS balance ORDER BY id")
                    .await?
                    .collect()
                    .await?;
                records.iter().map(|r| Ok((r.get("id")?, r.get("balance")?))).collect()
            })
            .await?;
        for (id, balance) in balances {
            println!("account {id}: {balance}");
        }
        session
            .run("MATCH (a:ExampleAccount) DELETE a")
            .await?
            .consume()
            .await?;
        Ok(())
    })
}
