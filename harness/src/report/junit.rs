//! JUnit XML for CI: one test suite per scenario, one test case per step.

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::ScenarioOutcome;
use super::snapshot::Comparison;

pub fn render(outcomes: &[ScenarioOutcome]) -> String {
    render_shard(outcomes, None)
}

/// One shard's report: named for its shard (`harness shard hash:2/4`), each suite carrying a
/// `shard` property. Only the shard's own scenarios are in it (none as skipped), so a CI that
/// merges every shard's file counts each scenario once.
pub fn render_shard(outcomes: &[ScenarioOutcome], shard: Option<&crate::suite::Shard>) -> String {
    let mut report = Report::new(match shard {
        Some(shard) => format!("harness shard {shard}"),
        None => "harness".to_owned(),
    });
    for outcome in outcomes {
        let mut suite = TestSuite::new(outcome.report.name.as_str());
        if let Some(shard) = shard {
            suite.add_property(Property::new("shard", shard.to_string()));
        }
        if let Some(reason) = &outcome.report.skipped {
            let mut status = TestCaseStatus::skipped();
            status.set_message(reason.as_str());
            suite.add_test_case(TestCase::new("skipped", status));
        }
        if let Some(error) = &outcome.report.setup_error {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_message(error.as_str());
            suite.add_test_case(TestCase::new("setup", status));
        }
        for (index, step) in outcome.report.steps.iter().enumerate() {
            let status = if step.failures.is_empty() {
                TestCaseStatus::success()
            } else {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status.set_message(step.failures.join("; "));
                status
            };
            let mut case = TestCase::new(format!("{}. {}", index + 1, step.name), status);
            case.set_classname(outcome.report.name.as_str());
            case.set_time(step.elapsed);
            suite.add_test_case(case);
        }
        if let Some(summary) = outcome.report.invariants_summary() {
            let mut problems: Vec<String> = outcome.report.cleanup_error.iter().cloned().collect();
            problems.extend(
                outcome
                    .report
                    .invariants
                    .iter()
                    .filter(|invariant| invariant.outcome == crate::run::Outcome::Violated)
                    .flat_map(|invariant| invariant.findings.iter().cloned()),
            );
            let status = if problems.is_empty() {
                TestCaseStatus::success()
            } else {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status.set_message(problems.join("; "));
                status
            };
            let mut case = TestCase::new("invariants", status);
            case.set_classname(outcome.report.name.as_str());
            case.set_system_out(summary);
            suite.add_test_case(case);
        }
        let snapshot_problem = match &outcome.snapshot {
            Comparison::Matches => None,
            Comparison::Missing => Some("no snapshot yet".to_owned()),
            Comparison::Changed(diff) => Some(diff.clone()),
        };
        if let Some(description) = snapshot_problem {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message("the replay differs from the snapshot");
            status.set_description(description);
            let mut case = TestCase::new("snapshot", status);
            case.set_classname(outcome.report.name.as_str());
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report.to_string().expect("JUnit XML serialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::{Exchange, ScenarioReport, SentRequest, StepReport};
    use std::time::Duration;

    fn step(name: &str, failures: &[&str]) -> StepReport {
        StepReport {
            name: name.into(),
            actions: vec![],
            exchange: Some(Exchange {
                request: SentRequest {
                    method: "POST".into(),
                    url: "/".into(),
                    headers: vec![],
                    body: None,
                },
                response: Err("x".into()),
            }),
            logs: vec![],
            service_logs: vec![],
            failures: failures.iter().map(|f| f.to_string()).collect(),
            elapsed: Duration::from_millis(5),
        }
    }

    #[test]
    fn one_test_case_per_step_and_failures_carry_their_message() {
        let outcome = ScenarioOutcome {
            report: ScenarioReport {
                name: "phantom-cookie".into(),
                steps: vec![
                    step("ok step", &[]),
                    step("bad step", &["status: expected 401, got 500"]),
                ],
                setup_error: None,
                skipped: None,
                timeouts: None,
                invariants: vec![],
                recovery: None,
                cleanup_error: None,
                elapsed: Duration::from_millis(10),
            },
            snapshot: Comparison::Matches,
        };
        let xml = render(&[outcome]);
        assert!(
            xml.contains(r#"<testsuite name="phantom-cookie" tests="2""#),
            "{xml}"
        );
        assert!(xml.contains(r#"name="2. bad step""#), "{xml}");
        assert!(
            xml.contains(r#"<failure message="status: expected 401, got 500""#),
            "{xml}"
        );

        let shard = crate::suite::Shard::parse("hash:2/4").unwrap();
        let xml = render_shard(&[outcome_of("phantom-cookie")], Some(&shard));
        assert!(
            xml.contains(r#"<testsuites name="harness shard hash:2/4""#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<property name="shard" value="hash:2/4"/>"#),
            "{xml}"
        );
    }

    fn outcome_of(name: &str) -> ScenarioOutcome {
        ScenarioOutcome {
            report: ScenarioReport {
                name: name.into(),
                steps: vec![step("ok step", &[])],
                setup_error: None,
                skipped: None,
                timeouts: None,
                invariants: vec![],
                recovery: None,
                cleanup_error: None,
                elapsed: Duration::from_millis(10),
            },
            snapshot: Comparison::Matches,
        }
    }
}
