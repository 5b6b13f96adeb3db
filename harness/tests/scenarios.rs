//! Every scenario file is one test (so `cargo nextest run --partition hash:K/N` deals scenario
//! files to CI runners), replayed at once against two fresh native stacks, one of the `cli` key
//! profile (ES256 user tokens, as `supabase start` issues them today) and one of the `legacy`
//! one (HS256 only), and compared with the same reviewed snapshot in `snapshots/`: a story that
//! holds under one profile holds, word for word, under the other. A scenario whose story needs
//! one profile (`keys = "cli"`) replays only under it. A new scenario needs no Rust code.

use std::path::PathBuf;

use harness::report::snapshot;
use harness::scenario::Scenario;
use harness::signing::KeyProfile;
use harness::{Runner, Stack};
use rstest::rstest;

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario(#[files("../scenarios/*.toml")] path: PathBuf) {
    harness::logs::install("TEST_LOG", "off");
    let stages = service::Stage::ALL.map(|stage| stage.name());
    let scenario = Scenario::load(&path, &stages).unwrap_or_else(|error| panic!("{error}"));
    let wants = |profile: &KeyProfile| {
        scenario
            .keys
            .is_none_or(|wanted| wanted.name() == profile.name())
    };
    let (cli, legacy) = tokio::join!(
        async { wants(&KeyProfile::Cli).then_some(replay(&scenario, KeyProfile::Cli).await) },
        async { wants(&KeyProfile::Legacy).then_some(replay(&scenario, KeyProfile::Legacy).await) },
    );
    let texts: Vec<(&str, String)> = [("cli", cli), ("legacy", legacy)]
        .into_iter()
        // Not wanted by the scenario's profile, or skipped on this provider.
        .filter_map(|(profile, text)| Some((profile, text.flatten()?)))
        .collect();
    let Some((_, text)) = texts.first() else {
        // Not run on this provider (e.g. network faults need containers): nothing to compare.
        return;
    };
    for (profile, other) in &texts[1..] {
        assert_eq!(
            text, other,
            "{}: the {profile} profile tells another story than {}",
            scenario.name, texts[0].0
        );
    }
    insta::with_settings!({
        snapshot_path => "../../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(scenario.name.as_str(), text);
    });
}

/// The replay's snapshot text on a fresh stack of `profile` with the scenario's budgets; `None`
/// when it is skipped on this provider. Panics, naming the profile, when an expectation fails.
async fn replay(scenario: &Scenario, profile: KeyProfile) -> Option<String> {
    let name = profile.name();
    let stack = Stack::builder()
        .keys(profile)
        .scenario(scenario)
        .start()
        .await
        .expect("the stack starts");
    let report = Runner::for_stack(&stack).replay(scenario).await;
    stack.stop().await.expect("the stack stops");
    if let Some(reason) = &report.skipped {
        eprintln!("{} skipped: {reason}", scenario.name);
        return None;
    }
    let text = snapshot::render(&report);
    // Setup, every step's expectations, and the invariants of fault scenarios.
    let failures = report.failures();
    assert!(
        failures.is_empty(),
        "{} failed under the {name} profile:\n{}\n\nthe replay:\n{text}",
        scenario.name,
        failures.join("\n")
    );
    Some(text)
}
