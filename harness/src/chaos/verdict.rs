//! The invariants a chaos run must satisfy: no acknowledged write lost, no status but a 2xx,
//! 503 or 504, no request past the service's timeouts, no internals in a body, and success
//! again once the faults are cleared. The figures themselves are counted in [`super::counts`].
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

/// A row of the written table (`public.sessions`) belonging to one of the run's users.
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
    /// `None`: the service's writes are not known, so lost writes are not judged.
    pub written: Option<Written<'a>>,
    pub windows: &'a [Window],
    /// `None`: the service's budget is not known, so hangs are not judged.
    pub timeouts: Option<ServiceTimeouts>,
    pub clients: usize,
    /// Who answered, as findings name it.
    pub stage: &'a str,
}

/// How a success names its row, and the rows found.
#[derive(Debug, Clone, Copy)]
pub struct Written<'a> {
    /// `sessionId` for the reference.
    pub id_field: &'a str,
    pub rows: &'a [Row],
}

impl Observed<'_> {
    pub(super) fn rows(&self) -> &[Row] {
        self.written.map_or(&[], |written| written.rows)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Latency {
    pub max_ms: f64,
    pub p99_ms: f64,
    /// auth timeout + database timeout + the margin: no request may take longer (`None` when
    /// the timeouts are unknown).
    pub bound_ms: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recovery {
    /// When the last fault was cleared, from the start of the load.
    pub last_clear_ms: Option<f64>,
    /// From that clear to the end of the first success sent after it.
    pub first_2xx_after_ms: Option<f64>,
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
    let (writes, unacknowledged, lost) = match observed.written {
        Some(written) => writes(observed.records, written),
        None => not_checked_writes(),
    };
    let (recovery_result, recovery) = recovery(observed.records, observed.windows);
    let (hangs, latency) = hangs(observed.records, observed.timeouts);
    let mut counts = counts::count(observed);
    counts.lost_writes = lost;
    counts.unacknowledged_rows = unacknowledged.findings.len() as u64;
    let events: Vec<Event> = numbered(observed.records)
        .map(|(number, record)| Event::Request(record.as_request_record(number, observed.stage)))
        .collect();
    let invariants = vec![
        writes,
        summarize_unacknowledged(unacknowledged),
        statuses(observed),
        hangs,
        invariants::internals(&events, observed.stage),
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

/// Without a written table: said so, never a silent pass.
fn not_checked_writes() -> (InvariantResult, InvariantResult, u64) {
    let unchecked = |name| InvariantResult {
        name,
        outcome: Outcome::Held,
        detail: "not checked: harness.toml's [invariants] names no `writes` table".to_owned(),
        findings: Vec::new(),
    };
    (
        unchecked("no lost writes"),
        unchecked("unacknowledged writes"),
        0,
    )
}

/// Every success's id has its row, owned by the client's user. Returns that verdict, the
/// unacknowledged rows (one finding each) and the number of lost writes.
fn writes(records: &[Record], written: Written<'_>) -> (InvariantResult, InvariantResult, u64) {
    let (rows, field) = (written.rows, written.id_field);
    let owners: HashMap<&str, usize> = rows
        .iter()
        .map(|row| (row.id.as_str(), row.client))
        .collect();
    let mut acknowledged: HashMap<String, usize> = HashMap::new();
    let mut violations = Vec::new();
    let mut lost = 0;
    for (number, record) in numbered(records).filter(|(_, r)| r.succeeded()) {
        let status = status_name(record);
        let Some(id) = record.acknowledged(field) else {
            lost += 1;
            violations.push(format!(
                "{} answered {status} without a {field} ({:?}): nothing says what was written",
                label(number, record),
                record.body
            ));
            continue;
        };
        match owners.get(id.as_str()) {
            None => {
                lost += 1;
                violations.push(format!(
                    "{} answered {status} with {field} {id}, but no such row exists: a lost \
                     acknowledged write",
                    label(number, record)
                ));
            }
            Some(owner) if *owner != record.client => {
                lost += 1;
                violations.push(format!(
                    "{} answered {status} with {field} {id}, but that row belongs to client \
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

/// A row without a success is the ambiguous case (committed, then the answer was lost or the
/// service gave up waiting): reported, never failed.
fn summarize_unacknowledged(mut result: InvariantResult) -> InvariantResult {
    let count = result.findings.len();
    if count == 0 {
        result.outcome = Outcome::Held;
        result.detail = "every row was acknowledged".to_owned();
    } else {
        result.detail = format!(
            "{count} row(s) committed that no success acknowledged (the connection or the wait \
             ended after the commit): ambiguous, not a failure"
        );
    }
    result
}

/// Only a 2xx, 503 or 504, and no success while a breaking fault was in force for the whole
/// request.
fn statuses(observed: Observed<'_>) -> InvariantResult {
    let mut violations = Vec::new();
    for (number, record) in numbered(observed.records) {
        match record.status {
            None => violations.push(format!(
                "{} got no answer: {}",
                label(number, record),
                record.error.as_deref().unwrap_or("no response")
            )),
            Some(status) if record.succeeded() => {
                let breaking = observed.windows.iter().find(|window| {
                    window.covers(record.at, record.end())
                        && severity(&window.fault, observed.timeouts) == Severity::Breaking
                });
                if let Some(window) = breaking {
                    violations.push(format!(
                        "{} answered {status} while `{}` was in force for the whole request: {}",
                        label(number, record),
                        describe_fault(&window.fault),
                        invariants::cause(status)
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
        "{} request(s): only a 2xx, 503 or 504",
        observed.records.len()
    );
    result("no misleading errors", detail, violations)
}

/// No request took longer than both timeouts (a request waits for the auth server, then the
/// database) plus the margin. Also the latency figures.
fn hangs(records: &[Record], timeouts: Option<ServiceTimeouts>) -> (InvariantResult, Latency) {
    let bound = timeouts.map(|timeouts| timeouts.auth + timeouts.db + HANG_MARGIN);
    let mut latencies = Latencies::default();
    let mut max = Duration::ZERO;
    let mut violations = Vec::new();
    for (number, record) in numbered(records) {
        latencies.record(record.elapsed);
        max = max.max(record.elapsed);
        if let Some(bound) = bound.filter(|bound| record.elapsed > *bound) {
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
        bound_ms: bound.map(millis),
    };
    let detail = match bound {
        Some(bound) => format!("every request within {} ms", millis(bound)),
        None => "not checked: the service's timeouts are unknown (set harness.toml's \
                 [invariants] timeout)"
            .to_owned(),
    };
    (result("no hangs", detail, violations), latency)
}

/// After the last clear, a request sent then succeeds.
fn recovery(records: &[Record], windows: &[Window]) -> (InvariantResult, Recovery) {
    let name = "recovery";
    let Some(cleared) = windows.iter().map(|window| window.cleared).max() else {
        let figures = Recovery {
            last_clear_ms: None,
            first_2xx_after_ms: None,
        };
        return (
            result(name, "no fault was in force".into(), vec![]),
            figures,
        );
    };
    let after: Vec<&Record> = records.iter().filter(|r| r.at >= cleared).collect();
    let first = after.iter().find(|record| record.succeeded());
    let figures = Recovery {
        last_clear_ms: Some(millis(cleared)),
        first_2xx_after_ms: first.map(|record| millis(record.end() - cleared)),
    };
    let outcome = match first {
        Some(_) => result(
            name,
            "a request sent after the last clear succeeded".into(),
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
                "no request succeeded after the last fault was cleared at {} ms: {seen}",
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
