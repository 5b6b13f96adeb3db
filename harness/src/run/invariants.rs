//! What must hold after every fault scenario, whatever its steps expect: no acknowledged write
//! lost, no misleading error, no internals in a body, and recovery once the faults are gone.
//!
//! Pure functions over what the replay observed ([`Event`]s), so each can be tested with
//! made-up observations, including ones that break it.

use std::collections::BTreeSet;
use std::sync::LazyLock;
use std::time::Duration;

use regex::Regex;

use super::ServiceTimeouts;
use crate::faults::{Dependency, Fault, NetworkAction, ProcessAction, ToxicKind};
use crate::scenario::describe_fault;

/// The stage whose behaviour under faults the invariants judge; the others are shown beside it.
pub const REFERENCE: &str = "reference";

/// Above the dependency's timeout, how long the service may take to give up.
pub const HANG_MARGIN: Duration = Duration::from_secs(1);

/// One request as sent and answered, unredacted.
#[derive(Debug, Clone)]
pub struct RequestRecord {
    /// 1-based, as the report numbers steps.
    pub step: usize,
    pub step_name: String,
    /// The stage it went to; `None` for the auth server or a URL.
    pub stage: Option<String>,
    /// When it was sent, from the start of the scenario.
    pub at: Duration,
    pub elapsed: Duration,
    /// `None` when no answer came.
    pub status: Option<u16>,
    pub body: String,
    /// Why no answer came.
    pub error: Option<String>,
    /// The faults in force while it ran.
    pub active: Vec<Fault>,
}

impl RequestRecord {
    /// The `sessionId` of a 200: a write the service acknowledged.
    pub fn acknowledged_session(&self) -> Option<String> {
        if self.status != Some(200) {
            return None;
        }
        let body: serde_json::Value = serde_json::from_str(&self.body).ok()?;
        body.get("sessionId")?.as_str().map(str::to_owned)
    }

    fn label(&self) -> String {
        format!("step {} (`{}`)", self.step, self.step_name)
    }
}

/// What happened during a replay, in order.
#[derive(Debug, Clone)]
pub enum Event {
    /// The faults in force changed to `active` (applied, removed or cleared) in `step`.
    Faults {
        at: Duration,
        step: usize,
        active: Vec<Fault>,
    },
    Request(RequestRecord),
}

/// One invariant's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvariantResult {
    pub name: &'static str,
    pub outcome: Outcome,
    /// A stable summary (no timings), as the snapshot shows it.
    pub detail: String,
    /// Each violation or ambiguity, naming the step and the cause.
    pub findings: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Held,
    /// A write committed that the service could not acknowledge, and the scenario says why
    /// that may happen: reported, not failed.
    Ambiguous,
    Violated,
}

impl Outcome {
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Held => "held",
            Outcome::Ambiguous => "AMBIGUOUS",
            Outcome::Violated => "VIOLATED",
        }
    }
}

impl InvariantResult {
    fn new(name: &'static str, detail: String, violations: Vec<String>) -> InvariantResult {
        let outcome = if violations.is_empty() {
            Outcome::Held
        } else {
            Outcome::Violated
        };
        InvariantResult {
            name,
            outcome,
            detail,
            findings: violations,
        }
    }
}

fn requests(events: &[Event]) -> impl Iterator<Item = &RequestRecord> {
    events.iter().filter_map(|event| match event {
        Event::Request(record) => Some(record),
        Event::Faults { .. } => None,
    })
}

/// Invariant 1: every acknowledged `sessionId` has its row, and no row exists that was not acknowledged
/// (ambiguous, not violated, when the scenario documents why in `ambiguous_writes`).
/// `rows` are the ids of every session row of the scenario's users.
pub fn acknowledged_writes(
    events: &[Event],
    rows: &[String],
    ambiguous_writes: Option<&str>,
) -> InvariantResult {
    let name = "acknowledged writes";
    let acknowledged: Vec<(String, &RequestRecord)> = requests(events)
        .filter_map(|record| Some((record.acknowledged_session()?, record)))
        .collect();
    let detail = format!("{} acknowledged, {} rows", acknowledged.len(), rows.len());
    let mut violations = Vec::new();
    for (id, record) in &acknowledged {
        if !rows.contains(id) {
            violations.push(format!(
                "invariant: {} answered 200 with sessionId {id}, but no such row exists: \
                 a lost acknowledged write",
                record.label()
            ));
        }
    }
    let unacknowledged: Vec<&String> = rows
        .iter()
        .filter(|row| !acknowledged.iter().any(|(id, _)| id == *row))
        .collect();
    if unacknowledged.is_empty() {
        return InvariantResult::new(name, detail, violations);
    }
    let finding = format!(
        "invariant: {} session row(s) committed that no response acknowledged ({})",
        unacknowledged.len(),
        unacknowledged
            .iter()
            .map(|id| id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    match ambiguous_writes {
        Some(why) if violations.is_empty() => InvariantResult {
            name,
            outcome: Outcome::Ambiguous,
            detail: format!("{detail}: unacknowledged write committed, as documented"),
            findings: vec![format!(
                "{finding}: ambiguous, as the scenario documents: {why}"
            )],
        },
        _ => {
            violations.push(format!("{finding}: an unacknowledged write committed"));
            InvariantResult::new(name, detail, violations)
        }
    }
}

/// Whether a fault keeps its dependency from answering in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Nothing the service can do will make the request succeed: it must say 503 or 504.
    Breaking,
    /// Degraded, but the service may still succeed (a 200 is fine).
    Degrading,
}

/// How a fault affects the service; a latency is breaking when latency + jitter reaches the
/// dependency's timeout (degrading when the timeouts are unknown: a 200 cannot be ruled out).
pub fn severity(fault: &Fault, timeouts: Option<ServiceTimeouts>) -> Severity {
    match fault {
        Fault::Toxic { dependency, toxic } => {
            if toxic.toxicity < 1.0 {
                return Severity::Degrading;
            }
            match toxic.kind {
                ToxicKind::Timeout
                | ToxicKind::ResetPeer
                | ToxicKind::LimitData
                | ToxicKind::Down => Severity::Breaking,
                ToxicKind::SlowClose | ToxicKind::Bandwidth | ToxicKind::Slicer => {
                    Severity::Degrading
                }
                ToxicKind::Latency => {
                    let millis = |name: &str| {
                        toxic
                            .attributes
                            .get(name)
                            .and_then(serde_json::Value::as_u64)
                            .unwrap_or(0)
                    };
                    let delay = Duration::from_millis(millis("latency") + millis("jitter"));
                    match timeouts {
                        Some(timeouts) if delay >= timeouts.of(*dependency) => Severity::Breaking,
                        _ => Severity::Degrading,
                    }
                }
            }
        }
        Fault::Process { action, .. } => match action {
            ProcessAction::Stop | ProcessAction::Kill | ProcessAction::Pause => Severity::Breaking,
            ProcessAction::Resume | ProcessAction::Restart => Severity::Degrading,
        },
        Fault::Network { action, .. } => match action {
            NetworkAction::Disconnect => Severity::Breaking,
            NetworkAction::Reconnect => Severity::Degrading,
        },
        // The reference stage cannot trust any of these answers (other-user included).
        Fault::Down { .. } | Fault::AuthHttp(_) => Severity::Breaking,
    }
}

/// Invariant 2: a reference request under a breaking fault answers 503 or 504 (under a degrading one,
/// 200 too), never 401, 403 or 500, and within the faulted dependencies' timeouts + 1 s.
pub fn misleading_errors(events: &[Event], timeouts: Option<ServiceTimeouts>) -> InvariantResult {
    let mut checked = BTreeSet::new();
    let mut violations = Vec::new();
    for record in requests(events) {
        if record.stage.as_deref() != Some(REFERENCE) || record.active.is_empty() {
            continue;
        }
        checked.insert(record.step);
        let breaking = record
            .active
            .iter()
            .any(|fault| severity(fault, timeouts) == Severity::Breaking);
        let situation = situation(&record.active);
        let allowed: &[u16] = if breaking {
            &[503, 504]
        } else {
            &[200, 503, 504]
        };
        match record.status {
            None => violations.push(format!(
                "invariant: {} got no answer while {situation}: {}",
                record.label(),
                record.error.as_deref().unwrap_or("no response")
            )),
            Some(status) if !allowed.contains(&status) => violations.push(format!(
                "invariant: {} answered {status} while {situation}: {}",
                record.label(),
                cause(status)
            )),
            Some(_) => {}
        }
        if let Some(timeouts) = timeouts {
            let dependencies: BTreeSet<Dependency> =
                record.active.iter().map(Fault::dependency).collect();
            let bound = dependencies
                .iter()
                .map(|dependency| timeouts.of(*dependency))
                .sum::<Duration>()
                + HANG_MARGIN;
            if record.elapsed > bound {
                violations.push(format!(
                    "invariant: {} took {:.1} s while {situation}: past the service's timeout \
                     plus {} s ({:.1} s), a hang",
                    record.label(),
                    record.elapsed.as_secs_f64(),
                    HANG_MARGIN.as_secs(),
                    bound.as_secs_f64()
                ));
            }
        }
    }
    // Steps, not requests: how often `recover` re-sent one depends on timing, and the detail
    // goes into snapshots.
    let mut detail = format!("{} reference step(s) under faults", checked.len());
    if timeouts.is_none() {
        detail.push_str(" (service timeouts unknown: hangs not checked)");
    }
    InvariantResult::new("no misleading errors", detail, violations)
}

fn situation(active: &[Fault]) -> String {
    active
        .iter()
        .map(|fault| match fault {
            Fault::Down { dependency } => format!("{dependency} was down"),
            Fault::Process { dependency, action } => {
                let state = match action {
                    ProcessAction::Stop => "stopped",
                    ProcessAction::Kill => "killed",
                    ProcessAction::Pause => "paused",
                    ProcessAction::Resume => "resumed",
                    ProcessAction::Restart => "restarted",
                };
                format!("{dependency} was {state}")
            }
            Fault::Network { dependency, .. } => format!("{dependency} was disconnected"),
            Fault::AuthHttp(fault) => format!("auth answered `{}`", fault.name()),
            Fault::Toxic { .. } => format!("`{}` was in force", describe_fault(fault)),
        })
        .collect::<Vec<_>>()
        .join(" and ")
}

pub(crate) fn cause(status: u16) -> &'static str {
    match status {
        401 => "an outage reported as bad credentials",
        403 => "an outage reported as a permission problem",
        500 => "an outage reported as an internal error instead of 503",
        200 => "a success claimed while a dependency could not answer",
        _ => "expected 503 or 504",
    }
}

/// What must never reach a client: SQL, connection strings, local URLs, panics, source paths.
static INTERNALS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        (r"SQLSTATE", "an SQLSTATE"),
        (r"(?i)\bviolates\b", "a constraint violation"),
        (r"(?i)syntax error", "an SQL syntax error"),
        (r"(?i)\binsert\s+into\b", "SQL"),
        (r"(?i)\bselect\s", "SQL"),
        (r"(?i)postgres(ql)?://", "a connection string"),
        (r"(127\.0\.0\.1|localhost|\[::1\]):\d", "a local URL"),
        (r"panicked at", "a panic"),
        (r"(?i)stack backtrace", "a backtrace"),
        (r"(^|[^A-Za-z0-9_])src/", "a source path"),
    ]
    .into_iter()
    .map(|(pattern, what)| (Regex::new(pattern).expect("valid pattern"), what))
    .collect()
});

/// Invariant 3: no reference response body shows internals.
pub fn internals(events: &[Event]) -> InvariantResult {
    let mut checked = BTreeSet::new();
    let mut violations = Vec::new();
    for record in requests(events).filter(|record| record.stage.as_deref() == Some(REFERENCE)) {
        checked.insert(record.step);
        for (pattern, what) in INTERNALS.iter() {
            if let Some(found) = pattern.find(&record.body) {
                violations.push(format!(
                    "invariant: {} answered with {what} in its body ({:?}): internals leaked",
                    record.label(),
                    found.as_str()
                ));
            }
        }
    }
    InvariantResult::new(
        "no internals",
        format!("{} reference step(s)", checked.len()),
        violations,
    )
}

/// Invariant 4: after the last time the faults were all removed, a reference request answers 200; returns
/// how long that took, from the clear to the end of that response.
pub fn recovery(events: &[Event]) -> (InvariantResult, Option<Duration>) {
    let name = "recovery";
    let mut active: &[Fault] = &[];
    let mut last_clear: Option<(usize, Duration, usize)> = None;
    for (index, event) in events.iter().enumerate() {
        if let Event::Faults {
            at,
            step,
            active: now,
        } = event
        {
            if now.is_empty() && !active.is_empty() {
                last_clear = Some((index, *at, *step));
            }
            active = now;
        }
    }
    if !active.is_empty() {
        let violation = format!(
            "invariant: the scenario ends with {} still in force: recovery never shown; end \
             with a step that clears them and sends a reference request",
            active
                .iter()
                .map(describe_fault)
                .collect::<Vec<_>>()
                .join(", ")
        );
        let detail = "faults still in force at the end".to_owned();
        return (InvariantResult::new(name, detail, vec![violation]), None);
    }
    let Some((index, cleared_at, step)) = last_clear else {
        let detail = "no fault was in force".to_owned();
        return (InvariantResult::new(name, detail, vec![]), None);
    };
    let after: Vec<&RequestRecord> = requests(&events[index..])
        .filter(|record| record.stage.as_deref() == Some(REFERENCE))
        .collect();
    match after.iter().find(|record| record.status == Some(200)) {
        Some(record) => {
            let recovered = (record.at + record.elapsed).saturating_sub(cleared_at);
            let detail =
                format!("a reference request succeeded after the last clear (step {step})");
            (InvariantResult::new(name, detail, vec![]), Some(recovered))
        }
        None => {
            let seen = match after.first() {
                None => "no reference request followed it".to_owned(),
                Some(first) => format!(
                    "{} reference request(s) followed it, the first answering {}",
                    after.len(),
                    first
                        .status
                        .map_or_else(|| "nothing".to_owned(), |status| status.to_string())
                ),
            };
            let violation = format!(
                "invariant: no reference request answered 200 after the faults were cleared in \
                 step {step}: {seen}"
            );
            let detail = format!("no success after the last clear (step {step})");
            (InvariantResult::new(name, detail, vec![violation]), None)
        }
    }
}

#[cfg(test)]
#[path = "invariants_tests.rs"]
mod tests;
