//! A scripted server and a driver talking to it: the stub checks what the driver sends, line by
//! line, and says at the end whether the script ran to completion.
//!
//! ```sh
//! cargo run -p quiver-stub --example stub_and_driver
//! ```

use quiver_blocking::{AuthToken, Driver};
use quiver_stub::StubServer;

const SCRIPT: &str = r#"
!: BOLT 5.4
C: HELLO {"user_agent": "*", "[bolt_agent]": "*", "[notifications_minimum_severity]": "*", "[notifications_disabled_classifications]": "*"}
S: SUCCESS {"server": "Neo4j/5.26.0", "connection_id": "bolt-1"}
C: LOGON {"scheme": "basic", "principal": "neo4j", "credentials": "secret"}
S: SUCCESS {}
C: RUN "UNWIND range(1, $n) AS i RETURN i" {"n": 3} {"[db]": "*", "[bookmarks]": "*", "[mode]": "*"}
S: SUCCESS {"fields": ["i"]}
C: PULL {"n": {"Z": "*"}}
S: RECORD [1]
   RECORD [2]
   RECORD [3]
   SUCCESS {"type": "r"}
*: RESET
?: GOODBYE
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let stub = StubServer::start(SCRIPT)?;
    println!("stub listening on {}", stub.address());
    let driver = Driver::new(&stub.bolt_uri(), AuthToken::basic("neo4j", "secret"))?;
    let mut session = driver.session();
    let query = quiver_blocking::Query::new("UNWIND range(1, $n) AS i RETURN i").param("n", 3);
    for record in session.run(query)? {
        println!("i = {}", record?.get::<i64>("i")?);
    }
    drop(session);
    drop(driver); // GOODBYE, and the connection closes
    let report = stub.finish()?;
    println!(
        "the script ran to completion on {} connection(s)",
        report.connections()
    );

    // The same script against a driver that sends something else: the stub says where.
    let stub = StubServer::start(SCRIPT)?;
    let driver = Driver::new(&stub.bolt_uri(), AuthToken::basic("neo4j", "secret"))?;
    let _ = driver.session().run("RETURN 1");
    drop(driver);
    match stub.finish() {
        Ok(_) => println!("unexpectedly complete"),
        Err(e) => println!("as expected, the stub says: {e}"),
    }
    Ok(())
}
