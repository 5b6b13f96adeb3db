//! Every scenario file is its own test, twice: replayed against a fresh native stack of the
//! `cli` key profile (ES256 user tokens, as `supabase start` issues them today) and of the
//! `legacy` one (HS256 only), and compared with the same reviewed snapshot in `snapshots/`:
//! a story that holds under one profile holds, word for word, under the other. A scenario whose
//! story needs one profile (`keys = "cli"`) runs once, in its own profile's test. A new scenario
//! needs no Rust code.

use std::path::PathBuf;

use harness::report::snapshot;
use harness::scenario::Scenario;
use harness::signing::KeyProfile;
use harness::{Runner, Stack};
use rstest::rstest;

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli(#[files("../scenarios/*.toml")] path: PathBuf) {
    replay(&path, KeyProfile::Cli).await;
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy(#[files("../scenarios/*.toml")] path: PathBuf) {
    replay(&path, KeyProfile::Legacy).await;
}

async fn replay(path: &std::path::Path, profile: KeyProfile) {
    harness::logs::install("TEST_LOG", "off");
    let stages = service::Stage::ALL.map(|stage| stage.name());
    let scenario = Scenario::load(path, &stages).unwrap_or_else(|error| panic!("{error}"));
    if let Some(wanted) = scenario.keys
        && wanted.name() != profile.name()
    {
        eprintln!(
            "{}: its story needs the {} profile; replayed by that profile's test",
            scenario.name,
            wanted.name()
        );
        return;
    }
    let stack = Stack::builder()
        .keys(profile)
        .scenario(&scenario)
        .start()
        .await
        .expect("the stack starts");
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
