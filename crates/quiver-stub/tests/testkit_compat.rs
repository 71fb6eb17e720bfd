//! The TestKit compatibility measurement as a test, for a checkout named by
//! `QUIVER_TESTKIT_DIR` (TestKit is not part of this repository):
//! `QUIVER_TESTKIT_DIR=/path/to/testkit cargo test -p quiver-stub --test testkit_compat -- --ignored`

#[test]
#[ignore = "needs a TestKit checkout in QUIVER_TESTKIT_DIR"]
fn testkit_stub_scripts_parse_and_complete() {
    let dir =
        std::env::var("QUIVER_TESTKIT_DIR").expect("QUIVER_TESTKIT_DIR names a TestKit checkout");
    let report = quiver_stub::replay::compat_report(std::path::Path::new(&dir));
    println!("{report}");
    let percent = |label: &str| -> f64 {
        let line = report.lines().find(|l| l.starts_with(label)).expect(label);
        let open = line.find('(').expect("a percentage");
        line[open + 1..].split('%').next().unwrap().parse().unwrap()
    };
    assert!(percent("| parsed |") >= 90.0, "{report}");
    assert!(percent("| replayed to completion |") >= 80.0, "{report}");
}
