//! `harness bench` as a user runs it, with tiny budgets: every section is printed with numbers.
//! Times are never asserted here; the benchmark reports them against the issue's targets.

use std::path::Path;
use std::process::Command;

use regex::Regex;

fn bench(args: &[&str]) -> String {
    bench_with_env(args, &[])
}

fn bench_with_env(args: &[&str], env: &[(&str, &str)]) -> String {
    let output = run_bench(args, env);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn run_bench(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .arg("bench")
        .args(["--runs", "1", "--duration", "1s", "--skip-cold"])
        // One contract scenario and one fault scenario keep the suite short (the fault
        // scenarios wait out the service's timeouts on purpose).
        .args([
            "scenarios/canonical-success.toml",
            "scenarios/fault-auth-down.toml",
        ])
        .args(args)
        .envs(env.iter().copied())
        .current_dir(root)
        .output()
        .expect("run harness bench")
}

fn assert_line(stdout: &str, pattern: &str) {
    let regex = Regex::new(pattern).unwrap();
    assert!(
        stdout.lines().any(|line| regex.is_match(line)),
        "no line matches {pattern}:\n{stdout}"
    );
}

#[test]
fn a_scenario_failing_during_the_bench_is_named_with_its_first_failure() {
    let output = run_bench(
        &[
            "--clients",
            "1",
            "harness/tests/fixtures/bench/wrong-expectation.toml",
        ],
        &[],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_line(&stdout, r"^3 scenarios \(1 failed\)");
    assert_line(
        &stdout,
        r#"^  failed: wrong-expectation: step 1 "a success expected to be a 418": status: expected 418, got 200$"#,
    );
}

#[test]
fn bench_prints_every_section_with_numbers() {
    let stdout = bench(&["--clients", "1,4"]);
    let n = r"\d+(\.\d+)?";
    assert_line(&stdout, r"load generator: .*reqwest");
    assert_line(&stdout, r"^build: (release|debug)");
    assert_line(
        &stdout,
        &format!(
            r"^native, warm \(template cached\)\s+{n}\s+{n}\s+{n}\s+1\s+≤ 1000 ms → {n}× (meets|misses)$"
        ),
    );
    assert_line(&stdout, r"^native, cold .*skipped \(--skip-cold\)");
    // A figure when a Docker engine answers and the local images exist, else the reason.
    assert_line(
        &stdout,
        &format!(
            r"^containers \(images present\)\s+({n}\s+{n}\s+{n}\s+1|-\s+-\s+-\s+0\s+not measured: \S.*)$"
        ),
    );
    assert_line(
        &stdout,
        &format!(r"^2 scenarios \(0 failed\), \d+ steps: {n} ms wall, {n} ms per step \(mean\)"),
    );
    assert_line(&stdout, &format!(r"^  of which 1 fault scenarios: {n} ms"));
    assert_line(
        &stdout,
        r"^Scenario suite, \d+ at a time \(faults on stacks of their own",
    );
    assert_line(
        &stdout,
        &format!(r"^  scenarios' own times added up: {n} ms \({n}× the wall time\)$"),
    );
    assert_line(
        &stdout,
        &format!(r"^  slowest scenario: (canonical-success|fault-auth-down) {n} ms"),
    );
    for clients in [1, 4] {
        // clients, service req/s p50 p99 errors, insert-only pgbench tps and ratio,
        // whole-request pgbench tps and ratio, GET /user req/s p50 p99, ratio
        let row = format!(
            r"^{clients}\s+{n}\s+{n}\s+{n}\s+0\s+{n}\s+{n}\s+{n}\s+{n}\s+{n}\s+{n}\s+{n}\s+{n}$"
        );
        assert_line(&stdout, &row);
    }
    // reference-local: clients, req/s, p50, p99, errors, local/pgbench, local/remote
    assert_line(&stdout, r"^The same request on reference-local");
    for clients in [1, 4] {
        assert_line(
            &stdout,
            &format!(r"^{clients}\s+{n}\s+{n}\s+{n}\s+0\s+{n}\s+{n}$"),
        );
    }
    assert_line(
        &stdout,
        &format!(
            r"^local validation/pgbench at 4 clients\s+{n} %\s+≥ 80.0 % → {n}× (meets|misses)$"
        ),
    );
    // the gateway + data API insert: clients, req/s, p50, p99, errors (0: every answer a 201),
    // api/pgbench
    assert_line(
        &stdout,
        r"^The same insert as an app makes it: the gateway, then the data API",
    );
    for clients in [1, 4] {
        assert_line(
            &stdout,
            &format!(r"^{clients}\s+{n}\s+{n}\s+{n}\s+0\s+{n}$"),
        );
    }
    assert_line(&stdout, &format!(r"^idle\s+{n}\s+{n}\s+\d+\s+{n}$"));
    assert_line(
        &stdout,
        &format!(r"^under load \(4 clients, peak\)\s+{n}\s+{n}\s+\d+\s+{n}$"),
    );
    assert_line(
        &stdout,
        &format!(
            r"^service/whole-request pgbench at 4 clients\s+{n} %\s+≥ 80.0 % → {n}× (meets|misses)$"
        ),
    );
    assert_line(
        &stdout,
        &format!(r"^native stack idle \(RSS sum\)\s+{n} MiB"),
    );
}

#[test]
fn bench_json_holds_every_figure() {
    let stdout = bench(&["--clients", "2", "--output", "json"]);
    let report: serde_json::Value = serde_json::from_str(&stdout).expect(&stdout);
    assert!(
        report["boot"]["native_warm"]["figures"]["median_ms"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    assert!(report["boot"]["native_cold"]["not_measured"].is_string());
    let containers = &report["boot"]["containers"];
    match containers["not_measured"].as_str() {
        Some(why) => assert!(
            why.starts_with("not measured: ") && why.len() > "not measured: ".len(),
            "{containers}"
        ),
        None => {
            let figures = &containers["figures"];
            assert_eq!(figures["runs"], 1, "{containers}");
            let (min, median, max) = (
                figures["min_ms"].as_f64().unwrap(),
                figures["median_ms"].as_f64().unwrap(),
                figures["max_ms"].as_f64().unwrap(),
            );
            assert!(0.0 < min && min <= median && median <= max, "{containers}");
        }
    }
    assert!(report["suite"]["steps"].as_u64().unwrap() > 0);
    assert!(report["suite"]["jobs"].as_u64().unwrap() >= 1);
    assert!(
        report["suite"]["slowest"]["name"].is_string(),
        "{}",
        report["suite"]
    );
    assert!(report["suite"]["scenario_sum_ms"].as_f64().unwrap() > 0.0);
    let level = &report["throughput"][0];
    assert_eq!(level["clients"], 2);
    assert!(
        level["service"]["requests"].as_u64().unwrap() > 0,
        "{level}"
    );
    assert_eq!(level["service"]["errors"], 0, "{level}");
    assert!(
        level["pgbench"]["figures"]["tps"].as_f64().unwrap() > 0.0,
        "{level}"
    );
    assert!(level["service_over_pgbench"].as_f64().unwrap() > 0.0);
    assert!(
        level["pgbench_whole_request"]["figures"]["tps"]
            .as_f64()
            .unwrap()
            > 0.0,
        "{level}"
    );
    assert!(level["service_over_whole_request"].as_f64().unwrap() > 0.0);
    assert!(level["service_over_auth"].as_f64().unwrap() > 0.0);
    assert!(
        level["gateway_rest"]["requests"].as_u64().unwrap() > 0,
        "{level}"
    );
    assert_eq!(level["gateway_rest"]["errors"], 0, "{level}");
    assert!(level["gateway_over_pgbench"].as_f64().unwrap() > 0.0);
    assert!(report["memory"]["idle"]["stack_rss_mib"].as_f64().unwrap() > 0.0);
    assert!(
        report["memory"]["under_load"]["harness_rss_mib"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    assert!(report["targets"].as_array().unwrap().len() >= 4);
}

#[test]
fn without_a_docker_engine_the_containers_row_says_why() {
    let socket = tempfile::tempdir().unwrap().path().join("docker.sock");
    let host = format!("unix://{}", socket.display());
    let stdout = bench_with_env(&["--clients", "1"], &[("DOCKER_HOST", &host)]);
    assert_line(
        &stdout,
        r"^containers \(images present\)\s+-\s+-\s+-\s+0\s+not measured: no Docker engine: .*docker\.sock",
    );
}
