//! `harness init` as a user runs it: in an empty folder it writes a project `harness list` then
//! reads and says what to do next; in `examples/fastapi-sessions/`, a project already, it refuses
//! and changes nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

/// Every file under `dir` (but a virtual environment and Python's caches) with its contents.
fn contents(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut found = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).unwrap().flatten() {
            let name = entry.file_name();
            if name == ".venv" || name == "__pycache__" {
                continue;
            }
            if entry.file_type().unwrap().is_dir() {
                pending.push(entry.path());
            } else {
                let relative = entry.path().strip_prefix(dir).unwrap().to_path_buf();
                found.insert(relative, std::fs::read(entry.path()).unwrap());
            }
        }
    }
    found
}

#[test]
fn in_an_empty_folder_it_writes_a_project_and_says_what_to_do_next() {
    let dir = tempfile::tempdir().unwrap();
    let output = harness(dir.path(), &["init"]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    for needle in [
        "wrote harness.toml\n",
        "wrote harness/scenarios/first-signed-in-call.toml\n",
        "found no app the harness recognises",
        "found no supabase/config.toml",
        "1. check [service.app] in harness.toml",
        "3. harness run --update",
    ] {
        assert!(stdout.contains(needle), "{needle:?} in:\n{stdout}");
    }
    let written: Vec<PathBuf> = contents(dir.path()).into_keys().collect();
    assert_eq!(
        written,
        // In path order: the folder `harness` before the file `harness.toml`.
        [
            PathBuf::from("harness/scenarios/first-signed-in-call.toml"),
            PathBuf::from("harness.toml"),
        ]
    );
    // What it wrote is a project the other commands read, its scenario calling the service.
    let listed = harness(dir.path(), &["list"]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    assert!(
        text(&listed.stdout).starts_with("first-signed-in-call (3 steps)"),
        "{}",
        text(&listed.stdout)
    );
}

#[test]
fn given_a_folder_it_writes_there_not_in_the_current_directory() {
    let (cwd, target) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let output = harness(cwd.path(), &["init", target.path().to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(target.path().join("harness.toml").is_file());
    assert!(contents(cwd.path()).is_empty());
}

#[test]
fn in_the_example_folder_it_refuses_and_changes_nothing() {
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("examples/fastapi-sessions");
    let before = contents(&example);
    assert!(before.contains_key(Path::new("harness.toml")));
    let output = harness(&example, &["init"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("harness init writes nothing over existing files, and these exist:"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&example.join("harness.toml").display().to_string()),
        "{stderr}"
    );
    assert!(
        text(&output.stdout).is_empty(),
        "nothing claims to be written"
    );
    assert!(
        contents(&example) == before,
        "harness init changed the example folder"
    );
}
