//! One scenario's replay in progress: its users, captures, redactions and faults, step by
//! step, and the invariants checked at the end of a fault scenario.

mod keys;
mod request;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sqlx::Connection;

use super::exchange::{self, Received, SentRequest};
use super::injection::Injection;
use super::invariants::{self, InvariantResult, Outcome, RequestRecord, Subject};
use super::judged::RowsError;
use super::users::Account;
use super::{Exchange, RunError, Runner, ServiceWatch, StepReport, WriteTable};
use crate::report::redact::Redactor;
use crate::scenario::{Placeholder, Request, Scenario, Step, Target, TokenKind, describe_fault};
use crate::signing::Attacker;

/// The keys nobody trusts, for every replay: made once (an RSA key takes a while in a debug
/// build), and never a target's.
static ATTACKER: std::sync::LazyLock<Attacker> = std::sync::LazyLock::new(Attacker::new);

/// Between two attempts of a `recover` step.
const RETRY_PAUSE: Duration = Duration::from_millis(50);

/// How long the invariants wait for the database to answer once the faults are cleared.
const DB_SETTLE: Duration = Duration::from_secs(5);

/// After a response, how long a project's services must print nothing more before the step's
/// lines are taken (a pipe delivers a line a moment after the service wrote it, and a server may
/// log a request just after answering it), and the most that is waited.
const OUTPUT_QUIET: Duration = Duration::from_millis(40);
const OUTPUT_SETTLE_MAX: Duration = Duration::from_millis(500);

/// One scenario's replay in progress: its users, captures, redactions and faults.
pub(super) struct Replay<'r> {
    runner: &'r Runner,
    accounts: HashMap<String, Account>,
    captures: HashMap<String, String>,
    redactor: Redactor,
    db: Option<sqlx::PgConnection>,
    faults: Injection,
}

/// One sending of a step's request, unredacted.
struct Attempt {
    request: SentRequest,
    response: Result<Received, String>,
    logs: Vec<String>,
    service_logs: Vec<String>,
    failures: Vec<String>,
}

/// What the end of a fault scenario found.
pub(super) struct Checked {
    pub(super) invariants: Vec<InvariantResult>,
    pub(super) recovery: Option<Duration>,
    pub(super) cleanup_error: Option<String>,
}

impl<'r> Replay<'r> {
    pub(super) async fn prepare(
        runner: &'r Runner,
        scenario: &Scenario,
        started: Instant,
    ) -> Result<Replay<'r>, RunError> {
        let targets = &runner.targets;
        if targets.faults.is_none()
            && let Some((index, step)) = scenario
                .steps
                .iter()
                .enumerate()
                .find(|(_, step)| step.touches_faults())
        {
            return Err(RunError::setup(format!(
                "this target cannot inject faults: step {} (`{}`) applies or clears faults, and \
                 this run has no fault injector (no fault proxy in front of the service's \
                 dependencies)",
                index + 1,
                step.name
            )));
        }
        if let Some(services) = &runner.services {
            services.check().map_err(RunError::setup)?;
        }
        let mut redactor = Redactor::default();
        redactor.know(&targets.anon_key, "keys.anon");
        redactor.know(&targets.service_role_key, "keys.service_role");
        let keys = targets.keys.current();
        if let Some(key) = keys.publishable_key() {
            redactor.know(key, "keys.publishable");
        }
        if let Some(key) = keys.secret_key() {
            redactor.know(key, "keys.secret");
        }
        keys::know_kids(&mut redactor, &keys);
        let attacker = ATTACKER
            .es256_key()
            .map_err(|e| RunError::setup(format!("making the attacker's key: {e}")))?;
        redactor.know(attacker.kid(), "kid:attacker");
        redactor.know(&targets.jwt_secret, "jwt_secret");
        redactor.know(&targets.auth_url, "auth");
        redactor.know(&targets.api_url, "api");
        redactor.know(&targets.db_url, "db");
        for (stage, url) in &targets.stages {
            redactor.know(url, format!("stage:{stage}"));
        }

        let mut accounts = HashMap::new();
        for user in &scenario.users {
            // A logged-out session costs two more round trips: only made when a step uses it.
            let logged_out_token = Placeholder::Token(user.name.clone(), TokenKind::LoggedOut);
            let logged_out = scenario
                .steps
                .iter()
                .any(|step| step.placeholders().contains(&logged_out_token));
            let account = Account::create(&runner.http, targets, user, logged_out).await?;
            redactor.know(&account.id, format!("{}.id", user.name));
            redactor.know(&account.email, format!("{}.email", user.name));
            redactor.know(&account.password, format!("{}.password", user.name));
            redactor.know(&account.access_token, format!("{}.token.valid", user.name));
            redactor.know(
                &account.refresh_token,
                format!("{}.token.refresh", user.name),
            );
            if let Some(token) = &account.logged_out_token {
                redactor.know(token, format!("{}.token.logged-out", user.name));
            }
            accounts.insert(user.name.clone(), account);
        }
        Ok(Replay {
            runner,
            accounts,
            captures: HashMap::new(),
            redactor,
            db: None,
            faults: Injection::new(targets.faults.clone(), started),
        })
    }

    /// Clears and applies the step's faults, sends its request (again and again with
    /// `recover`), then removes its `during` faults whatever the outcome.
    pub(super) async fn step(&mut self, number: usize, step: &Step) -> StepReport {
        let started = Instant::now();
        let mut actions = Vec::new();
        let mut failures = Vec::new();
        if let Some(Err(died)) = self.runner.services.as_ref().map(|s| s.check()) {
            return StepReport {
                name: step.name.clone(),
                actions,
                exchange: None,
                logs: Vec::new(),
                service_logs: Vec::new(),
                failures: vec![format!("not run: {}", self.redactor.text(&died))],
                elapsed: started.elapsed(),
            };
        }
        if !step.clear.is_empty() {
            let names: Vec<&str> = step
                .clear
                .iter()
                .map(|dependency| dependency.name())
                .collect();
            actions.push(format!("clear: {}", names.join(", ")));
            failures.extend(self.faults.clear(number, &step.clear).await);
        }
        let mut applied = true;
        if let Some(action) = &step.keys {
            match self.rotate(action).await {
                Ok(line) => actions.push(line),
                Err((line, failure)) => {
                    actions.push(line);
                    failures.push(failure);
                    applied = false;
                }
            }
        }
        let kept = step.faults.iter().map(|fault| (fault, false));
        for (fault, during) in kept.chain(step.during.iter().map(|fault| (fault, true))) {
            let word = if during { "during" } else { "fault" };
            actions.push(format!("{word}: {}", describe_fault(fault)));
            if let Err(error) = self.faults.apply(number, fault, during).await {
                failures.push(error);
                applied = false;
            }
        }
        let mut exchange = None;
        let mut logs = Vec::new();
        let mut service_logs = Vec::new();
        match &step.request {
            None => {}
            Some(_) if !applied => failures.push(
                "the request was not sent: a fault or key action could not be applied".into(),
            ),
            Some(request) => {
                self.redactor.scope(self.issued_alg_texts(step));
                let attempt = self.send_until(number, step, request).await;
                failures.extend(attempt.failures);
                let response = attempt
                    .response
                    .map(|received| self.redact(&received))
                    .map_err(|error| self.redactor.text(&error));
                logs = attempt
                    .logs
                    .iter()
                    .map(|line| self.redactor.text(line))
                    .collect();
                service_logs = attempt
                    .service_logs
                    .iter()
                    .map(|line| self.redactor.text(line))
                    .collect();
                exchange = Some(Exchange {
                    request: attempt.request,
                    response,
                });
            }
        }
        failures.extend(self.faults.end_during(number).await);
        if let Some(Err(died)) = self.runner.services.as_ref().map(|s| s.check()) {
            failures.push(died);
        }
        let failures = failures
            .iter()
            .map(|failure| self.redactor.text(failure))
            .collect();
        self.redactor.end_scope();
        StepReport {
            name: step.name.clone(),
            actions,
            exchange,
            logs,
            service_logs,
            failures,
            elapsed: started.elapsed(),
        }
    }

    /// Sends the request once, or with `recover` until it answers the expected status (any 2xx
    /// when none is stated) or time is up. Only the status: a request that writes must not be
    /// re-sent once it has succeeded, or every retry would add a row the other expectations see.
    async fn send_until(&mut self, number: usize, step: &Step, request: &Request) -> Attempt {
        let started = Instant::now();
        loop {
            let mut attempt = self.attempt(number, step, request).await;
            let Some(limit) = step.recover else {
                return attempt;
            };
            let recovered = match &attempt.response {
                Err(_) => request.expect.no_answer,
                Ok(_) if request.expect.no_answer => false,
                Ok(received) => match request.expect.status {
                    Some(status) => received.status == status,
                    None => (200..300).contains(&received.status),
                },
            };
            if recovered {
                return attempt;
            }
            if started.elapsed() >= limit {
                attempt.failures.push(format!(
                    "recover: no answer with the expected status after {:.1} s of retries",
                    limit.as_secs_f64()
                ));
                return attempt;
            }
            tokio::time::sleep(RETRY_PAUSE).await;
        }
    }

    async fn attempt(&mut self, number: usize, step: &Step, request: &Request) -> Attempt {
        let (outgoing, shown) = match self.outgoing(request) {
            Ok(built) => built,
            Err(error) => {
                return Attempt {
                    request: SentRequest {
                        method: request.method.clone(),
                        url: String::new(),
                        headers: vec![],
                        body: None,
                    },
                    response: Err(error.clone()),
                    logs: vec![],
                    service_logs: vec![],
                    failures: vec![error],
                };
            }
        };
        let subject = match &request.target {
            Target::Stage(stage) => Subject::Stage(stage.clone()),
            Target::Api => {
                let path = outgoing
                    .url
                    .strip_prefix(self.runner.targets.api_url.as_str())
                    .unwrap_or_default();
                Subject::Api {
                    method: outgoing.method.as_str().to_owned(),
                    path: path.split('?').next().unwrap_or_default().to_owned(),
                }
            }
            Target::Auth | Target::Url(_) => Subject::Other,
        };
        let active = self.faults.active();
        let at = self.faults.started().elapsed();
        let sent = Instant::now();
        let response = exchange::send(&self.runner.http, outgoing).await;
        let elapsed = sent.elapsed();
        self.faults.record(RequestRecord {
            step: number,
            step_name: step.name.clone(),
            subject,
            at,
            elapsed,
            status: response.as_ref().ok().map(|received| received.status),
            body: response
                .as_ref()
                .map_or_else(|_| String::new(), |received| received.body.clone()),
            error: response.as_ref().err().cloned(),
            active,
        });
        let logs = match (
            &self.runner.logs,
            response.as_ref().ok().and_then(Received::request_id),
        ) {
            (Some(source), Some(id)) => source.lines(id),
            _ => Vec::new(),
        };
        let service_logs = match &self.runner.services {
            Some(services) => settled_lines(services.as_ref(), sent).await,
            None => Vec::new(),
        };
        let mut failures = Vec::new();
        match &response {
            Ok(received) if request.expect.no_answer => failures.push(format!(
                "no_answer: expected no answer at all, got {}",
                received.status
            )),
            Ok(received) => {
                self.capture(request, received, &mut failures);
                self.check(request, received, &mut failures).await;
            }
            Err(_) if request.expect.no_answer => self.check_sql_only(request, &mut failures).await,
            Err(error) => failures.push(format!("no response: {error}")),
        }
        Attempt {
            request: shown,
            response,
            logs,
            service_logs,
            failures,
        }
    }

    /// Clears every dependency the scenario touched, then checks the invariants over what was
    /// observed before that final clear.
    pub(super) async fn finish(mut self, scenario: &Scenario) -> Checked {
        let events = self.faults.events().to_vec();
        let cleanup = if self.faults.touched_any() {
            self.faults.clear_all(scenario.steps.len()).await
        } else {
            Vec::new()
        };
        let spec = &self.runner.invariants;
        let stage = spec.stage.as_str();
        let mut checked = Vec::new();
        if let Some(table) = &spec.writes {
            checked.push(match self.written_rows(table).await {
                Ok(rows) => invariants::acknowledged_writes(
                    &events,
                    &rows,
                    scenario.ambiguous_writes.as_deref(),
                    table,
                ),
                Err(error) => InvariantResult {
                    name: "acknowledged writes",
                    outcome: Outcome::Violated,
                    detail: format!("not checked: {} could not be read", table.name()),
                    findings: vec![format!(
                        "invariant: cannot read {} to check the acknowledged writes: {error}",
                        table.name()
                    )],
                },
            });
        }
        let timeouts = spec.budget.timeouts(self.runner.targets.service_timeouts);
        let (recovery, recovered_in) = invariants::recovery(&events, stage);
        checked.extend([
            invariants::misleading_errors(&events, timeouts, stage),
            invariants::internals(&events, stage),
            recovery,
        ]);
        Checked {
            invariants: checked,
            recovery: recovered_in,
            cleanup_error: (!cleanup.is_empty()).then(|| {
                format!(
                    "the faults could not all be cleared at the end: {}",
                    cleanup.join("; ")
                )
            }),
        }
    }

    /// The ids of every row of `table` the scenario's users own, waiting for the database to
    /// answer (a cleared fault may still be settling).
    async fn written_rows(&self, table: &WriteTable) -> Result<Vec<String>, String> {
        let users: Vec<String> = self
            .accounts
            .values()
            .map(|account| account.id.clone())
            .collect();
        let deadline = Instant::now() + DB_SETTLE;
        loop {
            let result = async {
                let mut db = sqlx::PgConnection::connect(&self.runner.targets.db_url)
                    .await
                    .map_err(RowsError::Database)?;
                table.rows(&mut db, &users).await
            }
            .await;
            match result {
                Ok(rows) => return Ok(rows),
                Err(RowsError::Database(_)) if Instant::now() < deadline => {
                    tokio::time::sleep(RETRY_PAUSE).await
                }
                Err(error) => return Err(error.to_string()),
            }
        }
    }
}

/// The services' lines from `sent` until they have been quiet for [`OUTPUT_QUIET`] (at most
/// [`OUTPUT_SETTLE_MAX`] after the response).
async fn settled_lines(services: &dyn ServiceWatch, sent: Instant) -> Vec<String> {
    let answered = Instant::now();
    let mut seen = services.lines(sent, answered).len();
    loop {
        tokio::time::sleep(OUTPUT_QUIET).await;
        let now = Instant::now();
        let lines = services.lines(sent, now);
        if lines.len() == seen || now - answered >= OUTPUT_SETTLE_MAX {
            return lines;
        }
        seen = lines.len();
    }
}
