//! The invariants a chaos run must satisfy: no acknowledged write lost, no status but 200, 503
//! or 504, no request past the service's timeouts, no internals in a body, and success again
//! once the faults are cleared. The figures themselves are counted in [`super::counts`].
//!
//! Pure functions over the records, the rows and the fault windows, so the checks can be fed
//! made-up observations that break them.

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;

use super::counts::{self, Counts, FaultCounts, UserCounts, status_name};
use super::load::Record;
use super::schedule::{Window, millis};
use crate::bench::stats::Latencies;
use crate::run::ServiceTimeouts;
use crate::run::invariants::{
    self, Event, HANG_MARGIN, InvariantResult, Outcome, Severity, severity,
};
use crate::scenario::describe_fault;

/// Findings listed per invariant; the rest are counted.
const FINDINGS_SHOWN: usize = 10;

/// A row of `public.sessions` belonging to one of the run's users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub id: String,
    /// The client whose user owns it.
    pub client: usize,
}

/// Everything the checks look at.
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    /// In the order they were sent.
    pub records: &'a [Record],
    pub rows: &'a [Row],
    pub windows: &'a [Window],
    pub timeouts: ServiceTimeouts,
    pub clients: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Latency {
    pub max_ms: f64,
    pub p99_ms: f64,
    /// auth timeout + database timeout + the margin: no request may take longer.
    pub bound_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recovery {
    /// When the last fault was cleared, from the start of the load.
    pub last_clear_ms: Option<f64>,
    /// From that clear to the end of the first 200 sent after it.
    pub first_200_after_ms: Option<f64>,
}

/// The counts and every invariant's verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub counts: Counts,
    pub faults: Vec<FaultCounts>,
    pub users: Vec<UserCounts>,
    pub latency: Latency,
    pub recovery: Recovery,
    pub invariants: Vec<InvariantResult>,
}

impl Verdict {
    /// No invariant violated (an ambiguous write is reported, not failed).
    pub fn holds(&self) -> bool {
        self.invariants
            .iter()
            .all(|result| result.outcome != Outcome::Violated)
    }
}

/// Counts what was observed and checks every invariant.
pub fn judge(observed: Observed<'_>) -> Verdict {
    let (writes, unacknowledged, lost) = writes(observed.records, observed.rows);
    let (recovery_result, recovery) = recovery(observed.records, observed.windows);
    let (hangs, latency) = hangs(observed.records, observed.timeouts);
    let mut counts = counts::count(observed);
    counts.lost_writes = lost;
    counts.unacknowledged_rows = unacknowledged.findings.len() as u64;
    let events: Vec<Event> = numbered(observed.records)
        .map(|(number, record)| Event::Request(record.as_request_record(number)))
        .collect();
    let invariants = vec![
        writes,
        summarize_unacknowledged(unacknowledged),
        statuses(observed),
        hangs,
        invariants::internals(&events, invariants::REFERENCE),
        recovery_result,
    ]
    .into_iter()
    .map(capped)
    .collect();
    Verdict {
        counts,
        faults: counts::faults(observed),
        users: counts::users(observed),
        latency,
        recovery,
        invariants,
    }
}

fn numbered(records: &[Record]) -> impl Iterator<Item = (usize, &Record)> {
    records
        .iter()
        .enumerate()
        .map(|(i, record)| (i + 1, record))
}

fn label(number: usize, record: &Record) -> String {
    format!(
        "request #{number} (client {}, sent at {} ms)",
        record.client,
        millis(record.at)
    )
}

/// Every 200's sessionId has its row, owned by the client's user. Returns that verdict, the
/// unacknowledged rows (one finding each) and the number of lost writes.
fn writes(records: &[Record], rows: &[Row]) -> (InvariantResult, InvariantResult, u64) {
    let owners: HashMap<&str, usize> = rows
        .iter()
        .map(|row| (row.id.as_str(), row.client))
        .collect();
    let mut acknowledged: HashMap<String, usize> = HashMap::new();
    let mut violations = Vec::new();
    let mut lost = 0;
    for (number, record) in numbered(records).filter(|(_, r)| r.status == Some(200)) {
        let Some(id) = record.acknowledged_session() else {
            lost += 1;
            violations.push(format!(
                "{} answered 200 without a sessionId ({:?}): nothing says what was written",
                label(number, record),
                record.body
            ));
            continue;
        };
        match owners.get(id.as_str()) {
            None => {
                lost += 1;
                violations.push(format!(
                    "{} answered 200 with sessionId {id}, but no such row exists: a lost \
                     acknowledged write",
                    label(number, record)
                ));
            }
            Some(owner) if *owner != record.client => {
                lost += 1;
                violations.push(format!(
                    "{} answered 200 with sessionId {id}, but that row belongs to client \
                     {owner}'s user",
                    label(number, record)
                ));
            }
            Some(_) => {}
        }
        acknowledged.insert(id, number);
    }
    let detail = format!(
        "{} acknowledged, {} rows, {lost} lost",
        acknowledged.len(),
        rows.len()
    );
    let result = result("no lost writes", detail, violations);
    let unacknowledged: Vec<String> = rows
        .iter()
        .filter(|row| !acknowledged.contains_key(&row.id))
        .map(|row| format!("row {} of client {}'s user", row.id, row.client))
        .collect();
    let unacknowledged = InvariantResult {
        name: "unacknowledged writes",
        outcome: Outcome::Ambiguous,
        detail: String::new(),
        findings: unacknowledged,
    };
    (result, unacknowledged, lost)
}

/// A row without a 200 is the ambiguous case (committed, then the answer was lost or the
/// service gave up waiting): reported, never failed.
fn summarize_unacknowledged(mut result: InvariantResult) -> InvariantResult {
    let count = result.findings.len();
    if count == 0 {
        result.outcome = Outcome::Held;
        result.detail = "every row was acknowledged".to_owned();
    } else {
        result.detail = format!(
            "{count} row(s) committed that no 200 acknowledged (the connection or the wait \
             ended after the commit): ambiguous, not a failure"
        );
    }
    result
}

/// Only 200, 503 or 504, and no 200 while a breaking fault was in force for the whole request.
fn statuses(observed: Observed<'_>) -> InvariantResult {
    let mut violations = Vec::new();
    for (number, record) in numbered(observed.records) {
        match record.status {
            None => violations.push(format!(
                "{} got no answer: {}",
                label(number, record),
                record.error.as_deref().unwrap_or("no response")
            )),
            Some(200) => {
                let breaking = observed.windows.iter().find(|window| {
                    window.covers(record.at, record.end())
                        && severity(&window.fault, Some(observed.timeouts)) == Severity::Breaking
                });
                if let Some(window) = breaking {
                    violations.push(format!(
                        "{} answered 200 while `{}` was in force for the whole request: {}",
                        label(number, record),
                        describe_fault(&window.fault),
                        invariants::cause(200)
                    ));
                }
            }
            Some(503 | 504) => {}
            Some(status) => violations.push(format!(
                "{} answered {status}: {} ({})",
                label(number, record),
                invariants::cause(status),
                record.body
            )),
        }
    }
    let detail = format!(
        "{} request(s): only 200, 503 or 504",
        observed.records.len()
    );
    result("no misleading errors", detail, violations)
}

/// No request took longer than both timeouts (a request waits for the auth server, then the
/// database) plus the margin. Also the latency figures.
fn hangs(records: &[Record], timeouts: ServiceTimeouts) -> (InvariantResult, Latency) {
    let bound = timeouts.auth + timeouts.db + HANG_MARGIN;
    let mut latencies = Latencies::default();
    let mut max = Duration::ZERO;
    let mut violations = Vec::new();
    for (number, record) in numbered(records) {
        latencies.record(record.elapsed);
        max = max.max(record.elapsed);
        if record.elapsed > bound {
            violations.push(format!(
                "{} took {} ms, past the auth and database timeouts plus {} s ({} ms): a hang",
                label(number, record),
                millis(record.elapsed),
                HANG_MARGIN.as_secs(),
                millis(bound)
            ));
        }
    }
    let latency = Latency {
        max_ms: millis(max),
        p99_ms: latencies.quantile_ms(0.99),
        bound_ms: millis(bound),
    };
    let detail = format!("every request within {} ms", millis(bound));
    (result("no hangs", detail, violations), latency)
}

/// After the last clear, a request sent then succeeds.
fn recovery(records: &[Record], windows: &[Window]) -> (InvariantResult, Recovery) {
    let name = "recovery";
    let Some(cleared) = windows.iter().map(|window| window.cleared).max() else {
        let figures = Recovery {
            last_clear_ms: None,
            first_200_after_ms: None,
        };
        return (
            result(name, "no fault was in force".into(), vec![]),
            figures,
        );
    };
    let after: Vec<&Record> = records.iter().filter(|r| r.at >= cleared).collect();
    let first = after.iter().find(|record| record.status == Some(200));
    let figures = Recovery {
        last_clear_ms: Some(millis(cleared)),
        first_200_after_ms: first.map(|record| millis(record.end() - cleared)),
    };
    let outcome = match first {
        Some(_) => result(
            name,
            "a request sent after the last clear answered 200".into(),
            vec![],
        ),
        None => {
            let seen = match after.first() {
                None => "no request was sent after it".to_owned(),
                Some(first) => format!(
                    "{} request(s) were sent after it, the first answering {}",
                    after.len(),
                    status_name(first)
                ),
            };
            let violation = format!(
                "no request answered 200 after the last fault was cleared at {} ms: {seen}",
                millis(cleared)
            );
            result(
                name,
                "no success after the last clear".into(),
                vec![violation],
            )
        }
    };
    (outcome, figures)
}

fn result(name: &'static str, detail: String, violations: Vec<String>) -> InvariantResult {
    InvariantResult {
        name,
        outcome: if violations.is_empty() {
            Outcome::Held
        } else {
            Outcome::Violated
        },
        detail,
        findings: violations,
    }
}

/// Keeps the first findings and counts the rest, so one systematic fault does not print
/// thousands of lines.
fn capped(mut result: InvariantResult) -> InvariantResult {
    let total = result.findings.len();
    if total > FINDINGS_SHOWN {
        result.findings.truncate(FINDINGS_SHOWN);
        result
            .findings
            .push(format!("... and {} more", total - FINDINGS_SHOWN));
    }
    result
}

#[cfg(test)]
#[path = "verdict_tests.rs"]
mod tests;
