//! `harness run --jobs N` and `--shard K/N` as CI runs them: the output and the JUnit of any
//! number of jobs are the serial run's (times aside), and shards split the scenarios so that each
//! runs in exactly one.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use regex::Regex;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn harness(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_harness"));
    command.args(args).current_dir(root()).env("CI", "true");
    // The runner's own CI must not shard these runs.
    for name in [
        "HARNESS_SHARD",
        "CI_NODE_INDEX",
        "CI_NODE_TOTAL",
        "BUILDKITE_PARALLEL_JOB",
        "BUILDKITE_PARALLEL_JOB_COUNT",
        "CIRCLE_NODE_INDEX",
        "CIRCLE_NODE_TOTAL",
        "SYSTEM_JOBPOSITIONINPHASE",
        "SYSTEM_TOTALJOBSINPHASE",
    ] {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    command.output().expect("run harness")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Contract scenarios, a fault scenario, one with its own key profile and one on a caching
/// stage: every placement a run makes.
const MIX: &[&str] = &[
    "canonical-success",
    "expired-token",
    "fault-auth-down",
    "fault-db-reset-peer",
    "keys-opaque-api-keys",
    "local-validation-trade-off",
    "missing-header",
    "phantom-cookie",
];

fn scenario_paths(names: &[&str]) -> Vec<String> {
    names
        .iter()
        .map(|name| format!("scenarios/{name}.toml"))
        .collect()
}

/// What differs between two runs of the same scenarios whatever their order: times.
fn without_times(text: &str) -> String {
    let scenario_time = Regex::new(r"(?m)\d+\.\d+s$").unwrap();
    let recovery = Regex::new(r"recovered in \d+\.\d+ s").unwrap();
    let xml_time = Regex::new(r#"(time|timestamp)="[^"]*""#).unwrap();
    let text = scenario_time.replace_all(text, "[time]");
    let text = recovery.replace_all(&text, "recovered in [time]");
    xml_time.replace_all(&text, r#"$1="[time]""#).into_owned()
}

#[test]
fn any_number_of_jobs_prints_and_writes_what_one_job_does() {
    // One snapshot changed, so the comparison shows a failure's diff too.
    let snapshots = tempfile::tempdir().unwrap();
    for name in MIX {
        let from = root().join(format!("snapshots/{name}.snap"));
        let to = snapshots.path().join(format!("{name}.snap"));
        std::fs::copy(from, to).unwrap();
    }
    let changed = snapshots.path().join("phantom-cookie.snap");
    let snapshot = std::fs::read_to_string(&changed).unwrap();
    std::fs::write(&changed, snapshot.replacen("→ 500", "→ 502", 1)).unwrap();

    let run = |jobs: &str| {
        let junit = snapshots.path().join(format!("junit-{jobs}.xml"));
        let mut args = vec!["run", "--jobs", jobs, "--snapshots"];
        args.push(snapshots.path().to_str().unwrap());
        args.extend(["--junit", junit.to_str().unwrap()]);
        let paths = scenario_paths(MIX);
        args.extend(paths.iter().map(String::as_str));
        let output = harness(&args, &[]);
        let stdout = text(&output.stdout);
        assert_eq!(
            output.status.code(),
            Some(1),
            "only the changed snapshot fails:\n{stdout}\n{}",
            text(&output.stderr)
        );
        (stdout, std::fs::read_to_string(junit).unwrap())
    };
    let (serial, serial_junit) = run("1");
    let (parallel, parallel_junit) = run("4");
    assert!(serial.contains("FAILED phantom-cookie"), "{serial}");
    assert!(
        serial.contains("-→ 502") && serial.contains("+→ 500"),
        "{serial}"
    );
    assert!(serial.contains("7 passed, 1 failed"), "{serial}");
    assert_eq!(without_times(&serial), without_times(&parallel));
    assert_eq!(without_times(&serial_junit), without_times(&parallel_junit));
    // The files' order, not the order they finished in.
    let names: Vec<&str> = serial
        .lines()
        .skip(1)
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| MIX.contains(name))
        .collect();
    assert_eq!(names, MIX);
}

fn suites_in(junit: &str) -> Vec<String> {
    Regex::new(r#"<testsuite name="([^"]+)""#)
        .unwrap()
        .captures_iter(junit)
        .map(|captures| captures[1].to_owned())
        .collect()
}

#[test]
fn shards_run_every_scenario_exactly_once_with_a_report_each() {
    let names = [
        "canonical-success",
        "cookie-first-ignores-bearer",
        "expired-token",
        "forged-tokens",
        "lowercase-bearer",
        "missing-header",
        "phantom-cookie",
        "typo-in-url",
    ];
    let dir = tempfile::tempdir().unwrap();
    let report_name = Regex::new(r#"<testsuites name="([^"]+)""#).unwrap();
    for (strategy, total) in [("hash", 3), ("count", 2)] {
        let mut seen = Vec::new();
        let mut report_names = BTreeSet::new();
        for index in 1..=total {
            let junit = dir.path().join(format!("{strategy}-{index}.xml"));
            let shard = format!("{strategy}:{index}/{total}");
            let mut args = vec!["run", "--shard", &shard, "--junit", junit.to_str().unwrap()];
            let paths = scenario_paths(&names);
            args.extend(paths.iter().map(String::as_str));
            let output = harness(&args, &[]);
            assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
            let xml = std::fs::read_to_string(&junit).unwrap();
            let name = report_name
                .captures(&xml)
                .map(|captures| captures[1].to_owned())
                .expect("a report name");
            assert_eq!(name, format!("harness shard {shard}"));
            report_names.insert(name);
            seen.extend(suites_in(&xml));
        }
        let distinct: BTreeSet<&String> = seen.iter().collect();
        assert_eq!(distinct.len(), seen.len(), "a scenario ran twice: {seen:?}");
        assert_eq!(distinct.len(), names.len(), "a scenario was lost: {seen:?}");
        assert_eq!(report_names.len(), total, "one report name per shard");
    }
}

#[test]
fn the_ci_s_variables_name_the_same_shard_as_the_flag() {
    let paths = scenario_paths(&["canonical-success", "expired-token", "missing-header"]);
    let dir = tempfile::tempdir().unwrap();
    let suites = |flag: Option<&str>, env: &[(&str, &str)], file: &str| {
        let junit = dir.path().join(file);
        let mut args = vec!["run", "--junit", junit.to_str().unwrap()];
        if let Some(shard) = flag {
            args.extend(["--shard", shard]);
        }
        args.extend(paths.iter().map(String::as_str));
        let output = harness(&args, env);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        suites_in(&std::fs::read_to_string(junit).unwrap())
    };
    let flag = suites(Some("hash:2/2"), &[], "flag.xml");
    let gitlab = suites(
        None,
        &[("CI_NODE_INDEX", "2"), ("CI_NODE_TOTAL", "2")],
        "gitlab.xml",
    );
    let circle = suites(
        None,
        &[("CIRCLE_NODE_INDEX", "1"), ("CIRCLE_NODE_TOTAL", "2")],
        "circle.xml",
    );
    assert_eq!(gitlab, flag);
    assert_eq!(circle, flag, "CircleCI counts from 0");
}

#[test]
fn a_bad_shard_is_a_clear_error_before_anything_boots() {
    let path = "scenarios/canonical-success.toml";
    for (args, env, expected) in [
        (vec!["--shard", "5/4"], vec![], "K must be between 1 and N"),
        (
            vec!["--shard", "two/4"],
            vec![],
            "expected K/N, hash:K/N or count:K/N",
        ),
        (vec![], vec![("CI_NODE_INDEX", "2")], "CI_NODE_TOTAL is not"),
        (vec![], vec![("HARNESS_SHARD", "slice:1/2")], "not a shard"),
    ] {
        let mut all = vec!["run"];
        all.extend(args.iter().copied());
        all.push(path);
        let output = harness(&all, &env);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?} {env:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?} {env:?}: {stderr}");
        assert!(!stderr.contains("booting"), "{stderr}");
    }
}
