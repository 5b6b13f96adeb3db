//! Every scenario file is its own test: replayed against a fresh native stack and compared with
//! its reviewed snapshot in `snapshots/`. A new scenario needs no Rust code.

use std::path::PathBuf;

use harness::report::snapshot;
use harness::scenario::Scenario;
use harness::{Runner, Stack};
use rstest::rstest;

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario(#[files("../scenarios/*.toml")] path: PathBuf) {
    harness::logs::install("TEST_LOG", "off");
    let stages = service::Stage::ALL.map(|stage| stage.name());
    let scenario = Scenario::load(&path, &stages).unwrap_or_else(|error| panic!("{error}"));
    let stack = Stack::start().await.expect("the stack starts");
    let report = Runner::for_stack(&stack).replay(&scenario).await;
    if let Some(reason) = &report.skipped {
        // Not run on this provider (e.g. network faults need containers): nothing to compare.
        eprintln!("{} skipped: {reason}", scenario.name);
        stack.stop().await.expect("the stack stops");
        return;
    }
    let text = snapshot::render(&report);

    // Setup, every step's expectations, and the invariants of fault scenarios.
    let failures = report.failures();
    assert!(
        failures.is_empty(),
        "{} failed:\n{}\n\nthe replay:\n{text}",
        scenario.name,
        failures.join("\n")
    );

    insta::with_settings!({
        snapshot_path => "../../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(scenario.name.as_str(), text);
    });
    stack.stop().await.expect("the stack stops");
}
