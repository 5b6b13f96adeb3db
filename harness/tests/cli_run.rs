//! `harness run`, `list` and `show` as a user runs them: the real binary from the project root.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn harness(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .current_dir(root())
        .env("CI", "true")
        .output()
        .expect("run harness")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The scenarios without faults: one JUnit case per step. (The fault scenarios add action-only
/// steps and an invariants case each, and wait out timeouts; `tests/scenarios.rs` runs them.)
fn contract_scenarios() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .filter(|path| {
            !path
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("fault-")
        })
        .collect();
    paths.sort();
    paths
}

#[test]
fn run_passes_every_scenario_and_writes_junit_with_a_case_per_step() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("out.xml");
    let paths = contract_scenarios();
    let mut args = vec!["run".to_owned(), "--junit".to_owned()];
    args.push(junit.to_str().unwrap().to_owned());
    args.extend(paths.iter().map(|path| path.to_str().unwrap().to_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = harness(&args);
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&output.stderr)
    );
    assert!(paths.len() > 10, "the contract scenarios are found");
    assert!(
        stdout.contains(&format!("{} passed, 0 failed", paths.len())),
        "{stdout}"
    );

    let xml = std::fs::read_to_string(&junit).unwrap();
    let steps: usize = paths
        .iter()
        .map(|path| {
            std::fs::read_to_string(path)
                .unwrap()
                .matches("[[step]]")
                .count()
        })
        .sum();
    assert_eq!(xml.matches("<testcase ").count(), steps, "{xml}");
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(!xml.contains("<failure"), "{xml}");
}

#[test]
fn a_changed_answer_fails_with_a_diff_that_shows_exactly_the_change() {
    // The stored snapshot says the reference answered 500; the service answers 401.
    let dir = tempfile::tempdir().unwrap();
    let stored = std::fs::read_to_string(root().join("snapshots/missing-header.snap")).unwrap();
    let altered = stored.replacen("→ 401", "→ 500", 1);
    assert_ne!(stored, altered, "the snapshot has a 401 to alter");
    std::fs::write(dir.path().join("missing-header.snap"), altered).unwrap();

    let output = harness(&[
        "run",
        "--update",
        "--snapshots",
        dir.path().to_str().unwrap(),
        "scenarios/missing-header.toml",
    ]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAILED missing-header"), "{stdout}");
    assert!(
        stdout.contains("-→ 500\n") && stdout.contains("+→ 401\n"),
        "{stdout}"
    );
    assert!(stdout.contains("0 passed, 1 failed"), "{stdout}");

    // --update leaves the replay for review and the reviewed snapshot untouched.
    let pending = std::fs::read_to_string(dir.path().join("missing-header.snap.new")).unwrap();
    assert!(
        pending.ends_with(&format!(
            "{}\n",
            stored.split_once("\n---\n").unwrap().1.trim_end()
        )),
        "{pending}"
    );
    let kept = std::fs::read_to_string(dir.path().join("missing-header.snap")).unwrap();
    assert!(
        kept.contains("→ 500"),
        "the reviewed snapshot is not overwritten"
    );
}

#[test]
fn a_failed_expectation_names_the_step_and_what_came_back() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("wrong-expectation.toml");
    std::fs::write(
        &scenario,
        "story = \"expects the wrong status\"\n[[step]]\nname = \"no header\"\nstage = \"reference\"\n\
         method = \"POST\"\npath = \"/api/session/create\"\nexpect = { status = 500 }\n",
    )
    .unwrap();
    let output = harness(&[
        "run",
        "--snapshots",
        dir.path().to_str().unwrap(),
        scenario.to_str().unwrap(),
    ]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("step 1 \"no header\": status: expected 500, got 401"),
        "{stdout}"
    );
    assert!(stdout.contains("no snapshot yet"), "{stdout}");
}

#[test]
fn a_malformed_scenario_is_reported_with_its_position_and_nothing_runs() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("broken.toml");
    std::fs::write(&scenario, "story = \"s\"\n[[step]]\nname = \"n\"\nstage = \"refrence\"\nmethod = \"POST\"\npath = \"/\"\n")
        .unwrap();
    let output = harness(&["run", scenario.to_str().unwrap()]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{}:4:9: unknown stage `refrence`",
            scenario.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was run"), "{stderr}");
    assert!(
        !stderr.contains("booting"),
        "no stack was started: {stderr}"
    );
}

#[test]
fn list_shows_every_scenario_with_its_story() {
    let output = harness(&["list"]);
    let stdout = text(&output.stdout);
    assert!(output.status.success());
    assert!(
        stdout.contains("phantom-cookie (2 steps)\n    Failure 3 of the debrief"),
        "{stdout}"
    );
}

#[test]
fn show_replays_one_scenario_with_the_server_log() {
    let output = harness(&["show", "anon-client-rls"]);
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        text(&output.stderr)
    );
    assert!(
        stdout.contains("new row violates row-level security policy for table \"sessions\""),
        "{stdout}"
    );
    assert!(stdout.contains("server log:"), "{stdout}");
    assert!(stdout.ends_with("every expectation held\n"), "{stdout}");
}
