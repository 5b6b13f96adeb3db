//! One scenario's replay in progress: its users, captures, redactions and faults, step by
//! step, and the invariants checked at the end of a fault scenario.

mod request;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sqlx::Connection;

use super::exchange::{self, Received, SentRequest};
use super::injection::Injection;
use super::invariants::{self, InvariantResult, Outcome, RequestRecord};
use super::users::Account;
use super::{Exchange, RunError, Runner, StepReport};
use crate::report::redact::Redactor;
use crate::scenario::{Placeholder, Request, Scenario, Step, Target, TokenKind, describe_fault};

/// Between two attempts of a `recover` step.
const RETRY_PAUSE: Duration = Duration::from_millis(200);

/// How long the invariants wait for the database to answer once the faults are cleared.
const DB_SETTLE: Duration = Duration::from_secs(5);

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
        let mut redactor = Redactor::default();
        redactor.know(&targets.anon_key, "keys.anon");
        redactor.know(&targets.service_role_key, "keys.service_role");
        redactor.know(&targets.jwt_secret, "jwt_secret");
        redactor.know(&targets.auth_url, "auth");
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
        match &step.request {
            None => {}
            Some(_) if !applied => {
                failures.push("the request was not sent: a fault could not be applied".into())
            }
            Some(request) => {
                let attempt = self.send_until(number, step, request).await;
                failures.extend(attempt.failures);
                let response = attempt.response.map(|received| self.redact(&received));
                logs = attempt
                    .logs
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
        let failures = failures
            .iter()
            .map(|failure| self.redactor.text(failure))
            .collect();
        StepReport {
            name: step.name.clone(),
            actions,
            exchange,
            logs,
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
            let recovered =
                attempt
                    .response
                    .as_ref()
                    .is_ok_and(|received| match request.expect.status {
                        Some(status) => received.status == status,
                        None => (200..300).contains(&received.status),
                    });
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
                    failures: vec![error],
                };
            }
        };
        let active = self.faults.active();
        let at = self.faults.started().elapsed();
        let sent = Instant::now();
        let response = exchange::send(&self.runner.http, outgoing).await;
        let elapsed = sent.elapsed();
        self.faults.record(RequestRecord {
            step: number,
            step_name: step.name.clone(),
            stage: match &request.target {
                Target::Stage(stage) => Some(stage.clone()),
                Target::Auth | Target::Url(_) => None,
            },
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
        let mut failures = Vec::new();
        match &response {
            Ok(received) => {
                self.capture(request, received, &mut failures);
                self.check(request, received, &mut failures).await;
            }
            Err(error) => failures.push(format!("no response: {error}")),
        }
        Attempt {
            request: shown,
            response,
            logs,
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
        let writes = match self.session_rows().await {
            Ok(rows) => invariants::acknowledged_writes(
                &events,
                &rows,
                scenario.ambiguous_writes.as_deref(),
            ),
            Err(error) => InvariantResult {
                name: "acknowledged writes",
                outcome: Outcome::Violated,
                detail: "not checked: the sessions could not be read".to_owned(),
                findings: vec![format!(
                    "invariant: cannot read public.sessions to check the acknowledged writes: {error}"
                )],
            },
        };
        let timeouts = self.runner.targets.service_timeouts;
        let (recovery, recovered_in) = invariants::recovery(&events);
        Checked {
            invariants: vec![
                writes,
                invariants::misleading_errors(&events, timeouts),
                invariants::internals(&events),
                recovery,
            ],
            recovery: recovered_in,
            cleanup_error: (!cleanup.is_empty()).then(|| {
                format!(
                    "the faults could not all be cleared at the end: {}",
                    cleanup.join("; ")
                )
            }),
        }
    }

    /// The ids of every session row of the scenario's users, waiting for the database to answer
    /// (a cleared fault may still be settling).
    async fn session_rows(&self) -> Result<Vec<String>, String> {
        let users: Vec<uuid::Uuid> = self
            .accounts
            .values()
            .filter_map(|account| account.id.parse().ok())
            .collect();
        let deadline = Instant::now() + DB_SETTLE;
        loop {
            let result = async {
                let mut db = sqlx::PgConnection::connect(&self.runner.targets.db_url).await?;
                sqlx::query_scalar::<_, String>(
                    "select id::text from public.sessions where user_id = any($1)",
                )
                .bind(&users)
                .fetch_all(&mut db)
                .await
            }
            .await;
            match result {
                Ok(rows) => return Ok(rows),
                Err(_) if Instant::now() < deadline => tokio::time::sleep(RETRY_PAUSE).await,
                Err(error) => return Err(error.to_string()),
            }
        }
    }
}
