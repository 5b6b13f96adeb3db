//! `harness chaos` as a user runs it: the real binary, a real stack, real faults. The runs are
//! short (3 to 4 s) and one at a time, so the machine is not loaded twice over.

use std::process::{Command, Output};
use std::sync::Mutex;

use regex::Regex;
use serde_json::Value;

/// One chaos run at a time: each loads the machine on purpose.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn harness(args: &[&str]) -> Output {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .arg("chaos")
        .args(args)
        .env("CI", "true")
        .env_remove("HARNESS_PROVIDER")
        .output()
        .expect("run harness chaos")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn number(captures: &regex::Captures<'_>, name: &str) -> u64 {
    captures[name].parse().unwrap()
}

#[test]
fn a_concurrent_run_under_faults_loses_no_write_and_prints_the_counts() {
    let output = harness(&["--duration", "4s", "--clients", "4"]);
    let stdout = text(&output.stdout);
    let context = format!("{stdout}\n{}", text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{context}");

    let counts = Regex::new(
        r"(?m)^chaos: invariants held · requests (?P<requests>\d+) · 2xx (?P<ok>\d+) · 503s (?P<s503>\d+) · 504s (?P<s504>\d+) · other (?P<other>\d+) · rows (?P<rows>\d+) · lost writes (?P<lost>\d+) · unacknowledged rows (?P<unack>\d+)$",
    )
    .unwrap();
    let counts = counts
        .captures(&stdout)
        .unwrap_or_else(|| panic!("no counts line: {context}"));
    let requests = number(&counts, "requests");
    let ok = number(&counts, "ok");
    let failed = number(&counts, "s503") + number(&counts, "s504");
    assert!(requests > 0, "{context}");
    assert!(ok > 0, "no request succeeded: {context}");
    assert!(
        failed > 0,
        "the faults never made the service fail: {context}"
    );
    assert_eq!(number(&counts, "lost"), 0, "{context}");
    assert_eq!(number(&counts, "other"), 0, "{context}");
    assert_eq!(requests, ok + failed, "{context}");
    // Every acknowledged write has its row; the rest are the ambiguous commits.
    assert_eq!(
        number(&counts, "rows"),
        ok + number(&counts, "unack"),
        "{context}"
    );

    // The auth proxy down window fails every request wholly inside it: the faults bit.
    let down = Regex::new(r"(?m)^auth down\s+\d+\s+\d+\s+(\d+)\s+(\d+)\s+(\d+)").unwrap();
    let down = down
        .captures(&stdout)
        .unwrap_or_else(|| panic!("no `auth down` line: {context}"));
    let (touched, succeeded) = (
        down[1].parse::<u64>().unwrap(),
        down[2].parse::<u64>().unwrap(),
    );
    let unavailable: u64 = down[3].parse().unwrap();
    assert!(
        unavailable > 0 && unavailable + succeeded <= touched,
        "{context}"
    );
    for step in [
        "apply db reset_peer after 0 ms (downstream, toxicity 0.5)",
        "clear db",
        "apply process db restart",
        "apply auth down",
        "clear auth",
    ] {
        assert!(
            stdout.contains(step),
            "`{step}` not in the schedule: {context}"
        );
    }
    for invariant in [
        "no lost writes",
        "no misleading errors",
        "no hangs",
        "recovery",
    ] {
        assert!(
            stdout.contains(&format!("held       {invariant}:")),
            "{invariant} did not hold: {context}"
        );
    }
}

#[test]
fn json_output_adds_up() {
    let output = harness(&["--duration", "3s", "--clients", "2", "--output", "json"]);
    let context = format!("{}\n{}", text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{context}");
    let report: Value = serde_json::from_slice(&output.stdout).expect(&context);
    assert_eq!(report["holds"], true, "{context}");
    assert_eq!(report["clients"], 2);
    assert_eq!(report["schedule"].as_array().unwrap().len(), 5, "{context}");

    let counts = &report["counts"];
    let field = |value: &Value, name: &str| value[name].as_u64().expect(name);
    assert_eq!(field(counts, "lost_writes"), 0, "{context}");
    let users = report["users"].as_array().unwrap();
    assert_eq!(users.len(), 2);
    for name in ["requests", "status_2xx", "rows"] {
        let per_user: u64 = users.iter().map(|user| field(user, name)).sum();
        let total = field(counts, name);
        assert_eq!(per_user, total, "{name}: {context}");
    }
    let down = report["faults"]
        .as_array()
        .unwrap()
        .iter()
        .find(|fault| fault["fault"] == "auth down")
        .expect(&context);
    assert!(field(down, "status_503") > 0, "{context}");
    assert!(
        report["recovery"]["first_2xx_after_ms"].is_number(),
        "{context}"
    );
    for invariant in report["invariants"].as_array().unwrap() {
        assert_ne!(invariant["outcome"], "VIOLATED", "{context}");
    }
}

#[test]
fn bad_arguments_are_a_harness_error() {
    let output = harness(&["--clients", "0"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("--clients must be between 1 and 64"));
}
