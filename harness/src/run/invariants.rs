//! What must hold after every fault scenario, whatever its steps expect: no acknowledged write
//! lost, no misleading error, no internals in a body, and recovery once the faults are gone.
//!
//! Two kinds of request are judged ([`Subject`]): the judged stage (the reference, or the
//! project's service that harness.toml names), which must tell an outage as 503/504, and the
//! project URL, where the gateway and the data API must tell it as 502/503/504 (or, when the
//! gateway itself is down, by refusing the connection). Each is judged only by the faults on the
//! hops it crosses: a `rest` fault says nothing about the reference.
//!
//! Pure functions over what the replay observed ([`Event`]s), so each can be tested with
//! made-up observations, including ones that break it. Which stage they judge and where its
//! writes are is an [`InvariantSpec`](super::InvariantSpec): the reference stage and
//! `public.sessions` unless a project says otherwise.

use std::collections::BTreeSet;
use std::sync::LazyLock;
use std::time::Duration;

use regex::Regex;

use super::ServiceTimeouts;
use crate::faults::{Dependency, Fault, NetworkAction, ProcessAction, ToxicKind};
use crate::gateway::routes::{self, Service};
use crate::scenario::describe_fault;

/// The stage whose behaviour under faults the invariants judge unless a project names another;
/// the others are shown beside it.
pub const REFERENCE: &str = "reference";

/// Above the dependency's timeout, how long the service may take to give up.
pub const HANG_MARGIN: Duration = Duration::from_secs(1);

/// What a request went to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A stage of the service, by name.
    Stage(String),
    /// The project URL (the gateway): the method and the path, without the query.
    Api { method: String, path: String },
    /// The auth server directly, or a URL: shown, never judged.
    Other,
}

impl Subject {
    /// The hops this request crosses, when it is judged at all (`stage` is the judged one): the
    /// reference talks to the database and the auth server; a project's service may use every
    /// URL the stack gives it.
    fn crossing(&self, stage: &str) -> Option<&'static [Dependency]> {
        match self {
            Subject::Stage(name) if name == stage && name == REFERENCE => {
                Some(&[Dependency::Db, Dependency::Auth])
            }
            Subject::Stage(name) if name == stage => Some(&Dependency::ALL),
            Subject::Api { path, .. } => match routes::route(path)?.route.service {
                Service::Rest => Some(&[Dependency::Gateway, Dependency::Rest, Dependency::Db]),
                Service::Auth => Some(&[Dependency::Gateway, Dependency::Auth]),
            },
            _ => None,
        }
    }

    fn is_api(&self) -> bool {
        matches!(self, Subject::Api { .. })
    }
}

/// The judged steps, by kind, as details name them: `3 reference step(s), 1 api step(s)`.
struct Judged<'a> {
    stage: &'a str,
    of_stage: BTreeSet<usize>,
    api: BTreeSet<usize>,
}

impl<'a> Judged<'a> {
    fn new(stage: &'a str) -> Judged<'a> {
        Judged {
            stage,
            of_stage: BTreeSet::new(),
            api: BTreeSet::new(),
        }
    }

    fn insert(&mut self, record: &RequestRecord) {
        match record.subject {
            Subject::Api { .. } => self.api.insert(record.step),
            _ => self.of_stage.insert(record.step),
        };
    }

    /// `what` follows the counts: "under faults", or nothing.
    fn describe(&self, what: &str) -> String {
        let mut text = format!("{} {} step(s)", self.of_stage.len(), self.stage);
        if !self.api.is_empty() {
            text.push_str(&format!(", {} api step(s)", self.api.len()));
        }
        if !what.is_empty() {
            text.push(' ');
            text.push_str(what);
        }
        text
    }
}

/// One request as sent and answered, unredacted.
#[derive(Debug, Clone)]
pub struct RequestRecord {
    /// 1-based, as the report numbers steps.
    pub step: usize,
    pub step_name: String,
    pub subject: Subject,
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
    /// The `sessionId` of a success: a write the reference service acknowledged.
    pub fn acknowledged_session(&self) -> Option<String> {
        self.acknowledged_id(super::judged::REFERENCE_ID_FIELD)
    }

    /// The top-level `field` (a string or a number) of a 2xx JSON body: a write the service
    /// acknowledged.
    pub fn acknowledged_id(&self, field: &str) -> Option<String> {
        if !self.succeeded() {
            return None;
        }
        let body: serde_json::Value = serde_json::from_str(&self.body).ok()?;
        id_text(body.get(field)?)
    }

    /// Every id of `writes` this request acknowledged: the `id_field` of a stage's 2xx answer,
    /// or the `id_column` of each row the data API returned for a successful insert into the
    /// table (`POST /rest/v1/<table>` with `return=representation`).
    pub fn acknowledged_ids(&self, writes: &super::WriteTable) -> Vec<String> {
        let inserted = match &self.subject {
            Subject::Api { method, path } => {
                method == "POST" && *path == format!("/rest/v1/{}", writes.table)
            }
            _ => false,
        };
        if !inserted {
            return self.acknowledged_id(&writes.id_field).into_iter().collect();
        }
        if !self.succeeded() {
            return Vec::new();
        }
        let id = |row: &serde_json::Value| id_text(row.get(&writes.id_column)?);
        match serde_json::from_str::<serde_json::Value>(&self.body) {
            Ok(serde_json::Value::Array(rows)) => rows.iter().filter_map(id).collect(),
            Ok(row) => id(&row).into_iter().collect(),
            Err(_) => Vec::new(),
        }
    }

    fn succeeded(&self) -> bool {
        self.status
            .is_some_and(|status| (200..300).contains(&status))
    }

    /// The faults in force on the hops this request crosses; None when it is not judged.
    fn relevant(&self, stage: &str) -> Option<Vec<&Fault>> {
        let crossing = self.subject.crossing(stage)?;
        Some(
            self.active
                .iter()
                .filter(|fault| crossing.contains(&fault.dependency()))
                .collect(),
        )
    }

    fn judged(&self, stage: &str) -> bool {
        self.subject.crossing(stage).is_some()
    }

    fn label(&self) -> String {
        format!("step {} (`{}`)", self.step, self.step_name)
    }
}

/// An id as a response shows it, as text: a string, or a number (an identity column).
fn id_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(id) => Some(id.clone()),
        serde_json::Value::Number(id) => Some(id.to_string()),
        _ => None,
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
    writes: &super::WriteTable,
) -> InvariantResult {
    let name = "acknowledged writes";
    let table = writes.name();
    let acknowledged: Vec<(String, &RequestRecord)> = requests(events)
        .flat_map(|record| {
            record
                .acknowledged_ids(writes)
                .into_iter()
                .map(move |id| (id, record))
        })
        .collect();
    let detail = format!("{} acknowledged, {} rows", acknowledged.len(), rows.len());
    let mut violations = Vec::new();
    for (id, record) in &acknowledged {
        if !rows.contains(id) {
            violations.push(format!(
                "invariant: {} answered {} with {} {id}, but {table} has no such row: \
                 a lost acknowledged write",
                record.label(),
                record.status.unwrap_or_default(),
                if record.subject.is_api() {
                    &writes.id_column
                } else {
                    &writes.id_field
                }
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
        "invariant: {} row(s) of {table} committed that no response acknowledged ({})",
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

/// How a fault affects a reference request; a latency is breaking when latency + jitter
/// reaches the dependency's timeout (degrading when the timeouts are unknown: a 200 cannot be
/// ruled out).
pub fn severity(fault: &Fault, timeouts: Option<ServiceTimeouts>) -> Severity {
    severity_within(fault, timeouts.map(|t| t.of(fault.dependency())))
}

/// The same for a request through the gateway, whose upstream timeout bounds every hop behind
/// it (the data API itself waits for its database as long as it takes).
fn severity_through_gateway(fault: &Fault, timeouts: Option<ServiceTimeouts>) -> Severity {
    severity_within(fault, timeouts.map(|t| t.gateway))
}

fn severity_within(fault: &Fault, budget: Option<Duration>) -> Severity {
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
                    let _ = dependency;
                    match budget {
                        Some(budget) if delay >= budget => Severity::Breaking,
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

/// Invariant 2: a judged request under a breaking fault on a hop it crosses tells the outage
/// (the reference: 503 or 504; through the gateway: 502, 503 or 504, or no connection at all
/// when the gateway itself is down), under a degrading one it may also succeed, never 401, 403
/// or 500, and within its timeouts + 1 s.
pub fn misleading_errors(
    events: &[Event],
    timeouts: Option<ServiceTimeouts>,
    stage: &str,
) -> InvariantResult {
    let mut checked = Judged::new(stage);
    let mut violations = Vec::new();
    for record in requests(events) {
        let Some(relevant) = record.relevant(stage) else {
            continue;
        };
        if relevant.is_empty() {
            continue;
        }
        checked.insert(record);
        let api = record.subject.is_api();
        let breaking_fault = |fault: &Fault| {
            let severity = if api {
                severity_through_gateway(fault, timeouts)
            } else {
                severity(fault, timeouts)
            };
            severity == Severity::Breaking
        };
        let breaking = relevant.iter().any(|fault| breaking_fault(fault));
        let gateway_down = relevant
            .iter()
            .any(|fault| fault.dependency() == Dependency::Gateway && breaking_fault(fault));
        let owned: Vec<Fault> = relevant.iter().map(|fault| (*fault).clone()).collect();
        let situation = situation(&owned);
        let outage: &[u16] = if api { &[502, 503, 504] } else { &[503, 504] };
        let succeeded = record
            .status
            .is_some_and(|status| status == 200 || (api && (200..300).contains(&status)));
        match record.status {
            // Nothing listens when the gateway's own hop is down: a refused connection is the
            // truth then, and only then.
            None if gateway_down => {}
            None => violations.push(format!(
                "invariant: {} got no answer while {situation}: {}",
                record.label(),
                record.error.as_deref().unwrap_or("no response")
            )),
            Some(_) if succeeded && !breaking => {}
            Some(status) if !outage.contains(&status) => violations.push(format!(
                "invariant: {} answered {status} while {situation}: {}",
                record.label(),
                if api {
                    api_cause(status)
                } else {
                    cause(status)
                }
            )),
            Some(_) => {}
        }
        if let Some(timeouts) = timeouts {
            let bound = if api {
                timeouts.gateway
            } else {
                let dependencies: BTreeSet<Dependency> =
                    relevant.iter().map(|fault| fault.dependency()).collect();
                dependencies
                    .iter()
                    .map(|dependency| timeouts.of(*dependency))
                    .sum::<Duration>()
            } + HANG_MARGIN;
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
    let mut detail = checked.describe("under faults");
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

/// "an app request", "a reference request".
fn article(word: &str) -> &'static str {
    match word.chars().next() {
        Some(c) if "aeiouAEIOU".contains(c) => "an",
        _ => "a",
    }
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

/// The same causes, for an answer through the gateway.
fn api_cause(status: u16) -> &'static str {
    match status {
        200..=299 => "a success claimed while a dependency could not answer",
        404 => "an outage reported as a missing resource",
        400..=499 => cause(status),
        _ => "expected 502, 503 or 504",
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

/// What PostgREST's own errors may show (PostgreSQL's messages, SQLSTATEs, libpq's text), so
/// through the gateway only what no component should ever show is an internal.
const API_INTERNALS: &[&str] = &[
    "a connection string",
    "a panic",
    "a backtrace",
    "a source path",
];

/// Invariant 3: no judged response body shows internals.
pub fn internals(events: &[Event], stage: &str) -> InvariantResult {
    let mut checked = Judged::new(stage);
    let mut violations = Vec::new();
    for record in requests(events).filter(|record| record.judged(stage)) {
        checked.insert(record);
        let patterns = INTERNALS
            .iter()
            .filter(|(_, what)| !record.subject.is_api() || API_INTERNALS.contains(what));
        for (pattern, what) in patterns {
            if let Some(found) = pattern.find(&record.body) {
                violations.push(format!(
                    "invariant: {} answered with {what} in its body ({:?}): internals leaked",
                    record.label(),
                    found.as_str()
                ));
            }
        }
    }
    InvariantResult::new("no internals", checked.describe(""), violations)
}

/// Invariant 4: after the last time the faults were all removed, a judged request succeeds (the
/// reference 200, the project URL any 2xx); returns how long that took, from the clear to the end
/// of that response.
pub fn recovery(events: &[Event], stage: &str) -> (InvariantResult, Option<Duration>) {
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
             with a step that clears them and sends a {stage} request",
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
        .filter(|record| record.judged(stage))
        .collect();
    match after.iter().find(|record| record.succeeded()) {
        Some(record) => {
            let recovered = (record.at + record.elapsed).saturating_sub(cleared_at);
            let kind = if record.subject.is_api() {
                "an api".to_owned()
            } else {
                format!("{} {stage}", article(stage))
            };
            let detail = format!("{kind} request succeeded after the last clear (step {step})");
            (InvariantResult::new(name, detail, vec![]), Some(recovered))
        }
        None => {
            let who = if after.iter().any(|record| record.subject.is_api()) {
                format!("{stage} or api")
            } else {
                stage.to_owned()
            };
            let seen = match after.first() {
                None => format!("no {stage} request followed it"),
                Some(first) => format!(
                    "{} {who} request(s) followed it, the first answering {}",
                    after.len(),
                    first
                        .status
                        .map_or_else(|| "nothing".to_owned(), |status| status.to_string())
                ),
            };
            let violation = format!(
                "invariant: no {who} request succeeded (2xx) after the faults were cleared in \
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
