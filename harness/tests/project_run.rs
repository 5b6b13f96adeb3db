//! `harness run` in a project folder with the real binary: a service that dies mid-run is named
//! with its last words and the following step is not sent (`tests/fixtures/projects/one-shot`),
//! and `--project` reaches a folder from elsewhere. Needs only the system's python3.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/projects")
        .join(name)
}

fn harness(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .current_dir(cwd)
        .env("CI", "true")
        .output()
        .expect("run harness")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_service_that_dies_mid_run_is_named_with_its_output_and_the_next_step_is_not_sent() {
    let output = harness(&fixture("one-shot"), &["run"]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("service `one-shot` exited by itself (exit status: 3)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("stderr | fatal: the session store is corrupt"),
        "the tail is quoted: {stdout}"
    );
    assert!(
        stdout.contains("step 2 \"the service is gone\": not run: service `one-shot`"),
        "{stdout}"
    );
    // The first answer still reached the report; no snapshot was written into the fixture.
    assert!(stdout.contains("no snapshot yet"), "{stdout}");
    assert!(
        !fixture("one-shot").join("harness/snapshots").exists(),
        "run without --update writes nothing"
    );
}

#[test]
fn project_finds_the_folder_from_anywhere_and_lists_its_scenarios() {
    let elsewhere = tempfile::tempdir().unwrap();
    let dir = fixture("one-shot");
    let output = harness(
        elsewhere.path(),
        &["list", "--project", dir.to_str().unwrap()],
    );
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    assert!(
        stdout.starts_with("dies-after-one-request (2 steps)"),
        "{stdout}"
    );
    assert!(
        text(&output.stderr).contains(&format!(
            "harness: project {}",
            dir.join("harness.toml").display()
        )),
        "the project is named once"
    );
}

#[test]
fn a_stage_that_is_no_service_is_refused_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    for (path, contents) in [
        (
            "harness.toml",
            "[service.web]\ncommand = \"exit 1\"\nport = \"auto\"\n",
        ),
        (
            "harness/scenarios/typo.toml",
            "story = \"x\"\n[[step]]\nname = \"n\"\nstage = \"wbe\"\nmethod = \"GET\"\npath = \"/\"\n",
        ),
    ] {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
    let output = harness(dir.path(), &["run"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("typo.toml:4:"), "{stderr}");
    assert!(stderr.contains("wbe"), "{stderr}");
    assert!(stderr.contains("web"), "the services are offered: {stderr}");
    assert!(!stderr.contains("booting"), "nothing started: {stderr}");
}

#[test]
fn chaos_in_a_project_without_a_chaos_table_says_what_to_add_before_booting() {
    let output = harness(&fixture("one-shot"), &["chaos", "--duration", "1s"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("has no [chaos] table"), "{stderr}");
    assert!(
        stderr.contains("request = \"POST /api/session/create\""),
        "{stderr}"
    );
    assert!(!stderr.contains("booting the stack"), "{stderr}");
}
