//! How the runner sequences fault steps, against a real stack, with an injector that records
//! every call instead of breaking anything: faults before the request, `during` faults removed
//! after it even when it fails, and every touched dependency cleared at the end.

use std::path::Path;
use std::sync::{Arc, Mutex};

use harness::Stack;
use harness::faults::{Dependency, Fault, FaultError, FaultFuture, FaultInjector};
use harness::report::snapshot;
use harness::run::{LogSource, Outcome, Runner, ScenarioReport};
use harness::scenario::{Scenario, describe_fault};

/// Injector calls and requests, in the order they happened.
#[derive(Default)]
struct Recorder {
    calls: Mutex<Vec<String>>,
    /// Applying a fault whose description contains this fails.
    refuse: Option<&'static str>,
}

impl Recorder {
    fn push(&self, call: String) {
        self.calls.lock().unwrap().push(call);
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

impl FaultInjector for Recorder {
    fn apply<'a>(&'a self, fault: &'a Fault) -> FaultFuture<'a> {
        let described = describe_fault(fault);
        Box::pin(async move {
            self.push(format!("apply {described}"));
            match self.refuse {
                Some(refused) if described.contains(refused) => {
                    Err(FaultError("the proxy answered 500".into()))
                }
                _ => Ok(()),
            }
        })
    }

    fn clear(&self, dependency: Dependency) -> FaultFuture<'_> {
        self.push(format!("clear {dependency}"));
        Box::pin(async { Ok(()) })
    }
}

/// The runner asks for each response's log lines: that marks when a request was answered.
impl LogSource for Recorder {
    fn lines(&self, _request_id: &str) -> Vec<String> {
        self.push("request".into());
        Vec::new()
    }
}

const STAGES: &[&str] = &["debrief-final", "reference"];

async fn replay(stack: &Stack, recorder: Option<Arc<Recorder>>, text: &str) -> ScenarioReport {
    let scenario = Scenario::parse(Path::new("scenarios/faulty.toml"), text, STAGES)
        .unwrap_or_else(|error| panic!("{error}"));
    let mut targets = Runner::for_stack(stack).targets().clone();
    // The recorder only records: nothing is really slowed, so no fault can count as breaking
    // through the stack's timeouts, and without it there is no injector at all.
    targets.service_timeouts = None;
    targets.faults = None;
    let mut runner = match &recorder {
        Some(recorder) => {
            targets.faults = Some(recorder.clone());
            Runner::new(targets).with_logs(recorder.clone())
        }
        None => Runner::new(targets),
    };
    if recorder.is_none() {
        runner = runner.with_logs(Arc::new(Recorder::default()));
    }
    runner.replay(&scenario).await
}

const CREATE: &str = r#"stage = "reference"
method = "POST"
path = "/api/session/create"
headers = { Authorization = "Bearer {{alice.token.valid}}" }"#;

fn outage_and_recovery() -> String {
    format!(
        r#"
story = "auth slows down, the database is slow once, auth comes back"
users = ["alice"]

[[step]]
name = "auth slows down"
faults = [{{ proxy = "auth", toxic = "bandwidth", rate = 100 }}]

[[step]]
name = "a slow database for just this request"
during = [{{ proxy = "db", toxic = "latency", latency = 3000 }}]
{CREATE}
expect = {{ status = 418 }}

[[step]]
name = "auth comes back"
clear = ["auth"]
{CREATE}
expect = {{ status = 200 }}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_come_before_the_request_and_during_faults_go_after_it_even_on_failure() {
    let stack = Stack::start().await.expect("the stack starts");
    let recorder = Arc::new(Recorder::default());
    let report = replay(&stack, Some(recorder.clone()), &outage_and_recovery()).await;
    stack.stop().await.expect("the stack stops");

    assert_eq!(
        recorder.calls(),
        [
            "apply auth bandwidth 100 KB/s (downstream)",
            "apply db latency 3000 ms (downstream)",
            "request",
            // The expectation failed; the `during` fault is removed all the same.
            "clear db",
            "clear auth",
            "request",
            // The end of the scenario clears everything it touched.
            "clear db",
            "clear auth",
        ]
    );
    assert!(report.setup_error.is_none(), "{:?}", report.setup_error);
    assert_eq!(
        report.steps[1].failures,
        ["status: expected 418, got 200"],
        "only the stated expectation fails"
    );
    assert!(report.steps[0].exchange.is_none());
    assert!(report.steps[2].failures.is_empty(), "{:?}", report.steps[2]);

    // Nothing was really broken: every invariant holds, and recovery was measured.
    let outcomes: Vec<(&str, Outcome)> = report
        .invariants
        .iter()
        .map(|invariant| (invariant.name, invariant.outcome))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("acknowledged writes", Outcome::Held),
            ("no misleading errors", Outcome::Held),
            ("no internals", Outcome::Held),
            ("recovery", Outcome::Held),
        ],
        "{:?}",
        report.invariants
    );
    assert!(report.recovery.is_some());
    let summary = report.invariants_summary().unwrap();
    assert!(
        summary.starts_with("invariants: 4/4 held (recovered in "),
        "{summary}"
    );

    let text = snapshot::render(&report);
    assert!(
        text.contains(
            "## 1. auth slows down\n~ fault: auth bandwidth 100 KB/s (downstream)\n\n## 2."
        ),
        "{text}"
    );
    assert!(
        text.contains("~ during: db latency 3000 ms (downstream)\nPOST [stage:reference]"),
        "{text}"
    );
    assert!(
        text.contains("## 3. auth comes back\n~ clear: auth\nPOST"),
        "{text}"
    );
    assert!(
        text.ends_with(
            "## invariants\nacknowledged writes: held (2 acknowledged, 2 rows)\n\
             no misleading errors: held (1 reference step(s) under faults (service timeouts \
             unknown: hangs not checked))\n\
             no internals: held (2 reference step(s))\n\
             recovery: held (a reference request succeeded after the last clear (step 3))\n"
        ),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_that_cannot_be_applied_sends_nothing_and_is_still_cleared() {
    let stack = Stack::start().await.expect("the stack starts");
    let recorder = Arc::new(Recorder {
        refuse: Some("latency"),
        ..Recorder::default()
    });
    let report = replay(&stack, Some(recorder.clone()), &outage_and_recovery()).await;
    stack.stop().await.expect("the stack stops");

    let failures = &report.steps[1].failures;
    assert!(
        failures[0].contains("applying `db latency 3000 ms (downstream)`: the proxy answered 500"),
        "{failures:?}"
    );
    assert!(
        failures[1].contains("the request was not sent"),
        "{failures:?}"
    );
    assert!(report.steps[1].exchange.is_none());
    assert_eq!(
        recorder.calls(),
        [
            "apply auth bandwidth 100 KB/s (downstream)",
            "apply db latency 3000 ms (downstream)",
            "clear db",
            "clear auth",
            "request",
            "clear db",
            "clear auth",
        ]
    );
    assert!(!report.passed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_answered_401_is_reported_as_misleading() {
    let stack = Stack::start().await.expect("the stack starts");
    let recorder = Arc::new(Recorder::default());
    // The recorder breaks nothing; a bad token makes the real service answer 401 while the
    // scenario says auth is down: exactly what the invariant must catch.
    let text = r#"
story = "auth is down, and the answer blames the credentials"
users = ["alice"]

[[step]]
name = "the auth server refuses connections"
faults = [{ proxy = "auth", toxic = "down" }]
stage = "reference"
method = "POST"
path = "/api/session/create"
headers = { Authorization = "Bearer {{alice.token.wrong-secret}}" }

[[step]]
name = "auth is back"
clear = ["all"]
stage = "reference"
method = "POST"
path = "/api/session/create"
headers = { Authorization = "Bearer {{alice.token.valid}}" }
recover = "5s"
expect = { status = 200 }
"#;
    let report = replay(&stack, Some(recorder), text).await;
    stack.stop().await.expect("the stack stops");

    assert!(report.steps.iter().all(|step| step.failures.is_empty()));
    assert!(!report.passed());
    assert_eq!(
        report.failures(),
        [
            "invariant: step 1 (`the auth server refuses connections`) answered 401 while auth \
          was down: an outage reported as bad credentials"
        ]
    );
    assert!(
        snapshot::render(&report).contains("no misleading errors: VIOLATED"),
        "{}",
        snapshot::render(&report)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_injector_a_fault_scenario_is_a_setup_error_and_containers_ones_are_skipped() {
    let stack = Stack::start().await.expect("the stack starts");
    let report = replay(&stack, None, &outage_and_recovery()).await;
    let error = report.setup_error.clone().expect("a setup error");
    assert!(
        error.contains("this target cannot inject faults: step 1 (`auth slows down`)"),
        "{error}"
    );
    assert!(report.steps.is_empty());
    assert!(!report.passed());

    let containers = r#"
story = "auth is cut off the network"
requires = "containers"
[[step]]
name = "disconnect"
faults = [{ network = "auth", action = "disconnect" }]
"#;
    let report = replay(&stack, Some(Arc::new(Recorder::default())), containers).await;
    stack.stop().await.expect("the stack stops");
    assert_eq!(
        report.skipped.as_deref(),
        Some("needs the containers provider; this run uses native")
    );
    assert!(report.passed(), "skipped is not failed");
    assert!(report.steps.is_empty());
}
