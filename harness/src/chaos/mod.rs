//! `harness chaos`: many clients create sessions (or send a project's `[chaos]` request), each
//! as its own user, while a fixed schedule of faults breaks the database and the auth server
//! under them; then the rows are counted and the invariants checked.
//!
//! A scenario shows one request per fault; this shows what only concurrency shows: writes in
//! flight when a connection is reset or the database restarts. Every success must have its row
//! (a lost acknowledged write is the failure this exists to catch), every failure must be a 503
//! or a 504, within the service's timeouts, and the service must succeed again once the faults
//! are gone.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let stack = harness::Stack::start().await?;
//! let report = harness::chaos::run(&stack, &harness::chaos::Options::default(), &|_| {}).await?;
//! assert_eq!(report.verdict.counts.lost_writes, 0);
//! stack.stop().await?;
//! # Ok(()) }
//! ```

pub mod counts;
pub mod load;
pub mod render;
pub mod schedule;
pub mod target;
pub mod verdict;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use self::load::Load;
use self::schedule::{PlayedLine, Schedule, millis};
pub use self::target::{Request, Target};
use self::verdict::{Observed, Row, Verdict, Written};
use crate::faults::{Dependency, FaultInjector};
use crate::run::{Account, Runner};
use crate::scenario::{User, UserCreation};

/// After the last fault is cleared, the load goes on for at least this share of the duration,
/// even when a slow restart pushed the schedule past its slots, so recovery can be seen.
const RECOVERY_SHARE: f64 = 0.2;

/// How many clients, for how long, with which faults, sending what to whom.
#[derive(Debug, Clone)]
pub struct Options {
    pub clients: usize,
    pub duration: Duration,
    pub schedule: Schedule,
    /// `None`: the reference stage's `POST /api/session/create` ([`Target::reference`]).
    pub target: Option<Target>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            clients: 8,
            duration: Duration::from_secs(10),
            schedule: Schedule::standard(),
            target: None,
        }
    }
}

/// Why the run could not be done (not why the service failed it: that is the [`Verdict`]).
#[derive(Debug, thiserror::Error)]
pub enum ChaosError {
    #[error("the stack was started without its fault proxy: a chaos run needs stack.faults()")]
    NoFaultProxy,
    #[error("signing up the chaos clients' users: {0}")]
    SignUp(String),
    #[error("the fault schedule stopped: {0}")]
    Fault(String),
    #[error("clearing the faults after the run: {0}")]
    Clear(String),
    #[error("counting the rows in {table} at {url}: {why}")]
    Rows {
        table: String,
        url: String,
        why: String,
    },
}

/// What a chaos run did and saw.
#[derive(Debug, Clone, Serialize)]
pub struct ChaosReport {
    pub provider: String,
    pub clients: usize,
    pub duration_ms: f64,
    /// How long the load actually ran (longer than the duration when the schedule overran).
    pub load_ms: f64,
    /// What the clients sent, e.g. `POST {reference}/api/session/create`.
    pub request: String,
    /// `None` when the judged service's timeouts are not known.
    pub auth_timeout_ms: Option<f64>,
    pub db_timeout_ms: Option<f64>,
    pub schedule: Vec<PlayedLine>,
    #[serde(flatten, serialize_with = "verdict_json")]
    pub verdict: Verdict,
    pub holds: bool,
}

/// Signs up one user per client, runs the load and the schedule together, clears every fault,
/// counts the rows and judges.
pub async fn run(
    stack: &crate::Stack,
    options: &Options,
    progress: &dyn Fn(&str),
) -> Result<ChaosReport, ChaosError> {
    let faults = stack.faults().ok_or(ChaosError::NoFaultProxy)?;
    let injector: &dyn FaultInjector = faults.as_ref();
    progress(&format!("signing up {} users", options.clients));
    let accounts = sign_up(stack, options.clients).await?;
    let target = match &options.target {
        Some(target) => target.clone(),
        None => Target::reference(stack),
    };
    let load = Load {
        url: target.url(),
        method: target.request.method.clone(),
        body: target.request.body.clone(),
        tokens: accounts.iter().map(|a| a.access_token.clone()).collect(),
        request_timeout: target.request_timeout(),
    };
    progress(&format!(
        "{} clients for {:.1} s; faults: {}",
        options.clients,
        options.duration.as_secs_f64(),
        describe(&options.schedule)
    ));
    let start = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let clients = tokio::spawn({
        let stop = Arc::clone(&stop);
        async move { load.run(start, stop).await }
    });
    let played = options
        .schedule
        .play(injector, start, options.duration)
        .await;
    if let Ok(played) = &played {
        let last = played.last().map_or(Duration::ZERO, |step| step.finished);
        let until = options
            .duration
            .max(last + options.duration.mul_f64(RECOVERY_SHARE));
        tokio::time::sleep_until((start + until).into()).await;
    }
    stop.store(true, Ordering::Relaxed);
    let records = clients.await.expect("the chaos load does not panic");
    let end = start.elapsed();
    let cleared = clear_all(injector).await;
    let played = played.map_err(|(_, error)| ChaosError::Fault(error.0))?;
    cleared?;
    progress(&format!(
        "{} requests in {:.1} s; counting rows",
        records.len(),
        end.as_secs_f64()
    ));
    let rows = match &target.writes {
        Some(writes) => Some(rows(stack.db_url(), writes, &accounts).await?),
        None => None,
    };
    let windows = schedule::windows(&played, end);
    let verdict = verdict::judge(Observed {
        records: &records,
        written: target
            .id_field()
            .zip(rows.as_deref())
            .map(|(id_field, rows)| Written { id_field, rows }),
        windows: &windows,
        timeouts: target.timeouts,
        clients: options.clients,
        stage: &target.stage,
    });
    Ok(ChaosReport {
        provider: stack.provider().name().to_owned(),
        clients: options.clients,
        duration_ms: millis(options.duration),
        load_ms: millis(end),
        request: format!("{} {}", target.request.method, target.url()),
        auth_timeout_ms: target.timeouts.map(|t| millis(t.auth)),
        db_timeout_ms: target.timeouts.map(|t| millis(t.db)),
        schedule: played.iter().map(PlayedLine::from).collect(),
        holds: verdict.holds(),
        verdict,
    })
}

fn describe(schedule: &Schedule) -> String {
    schedule
        .steps
        .iter()
        .map(|step| format!("{:.0}% {}", step.at * 100.0, step.action.describe()))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn sign_up(stack: &crate::Stack, clients: usize) -> Result<Vec<Account>, ChaosError> {
    let runner = Runner::for_stack(stack);
    let http = reqwest::Client::new();
    let signups = (0..clients).map(|client| {
        let user = User {
            name: format!("chaos-{client}"),
            created_by: UserCreation::SignUp,
        };
        let (http, targets) = (&http, runner.targets());
        async move { Account::create(http, targets, &user, false).await }
    });
    futures_util::future::try_join_all(signups)
        .await
        .map_err(|error| ChaosError::SignUp(error.to_string()))
}

/// Clears both dependencies, whatever happened; every failure is reported.
async fn clear_all(injector: &dyn FaultInjector) -> Result<(), ChaosError> {
    let mut problems = Vec::new();
    for dependency in Dependency::ALL {
        if let Err(error) = injector.clear(dependency).await {
            problems.push(error.0);
        }
    }
    match problems.is_empty() {
        true => Ok(()),
        false => Err(ChaosError::Clear(problems.join("; "))),
    }
}

/// The rows of the clients' users in `writes`, read as the superuser (row-level security does
/// not hide any).
async fn rows(
    db_url: &str,
    writes: &crate::run::WriteTable,
    accounts: &[Account],
) -> Result<Vec<Row>, ChaosError> {
    use sqlx::Connection;
    let failed = |why: String| ChaosError::Rows {
        table: writes.name(),
        url: db_url.to_owned(),
        why,
    };
    let mut connection = sqlx::PgConnection::connect(db_url)
        .await
        .map_err(|e| failed(e.to_string()))?;
    let users: Vec<String> = accounts.iter().map(|a| a.id.clone()).collect();
    let found = writes
        .owned_rows(&mut connection, &users)
        .await
        .map_err(|e| failed(e.to_string()))?;
    let _ = connection.close().await;
    Ok(found
        .into_iter()
        .filter_map(|(id, user)| {
            let client = users.iter().position(|u| *u == user)?;
            Some(Row { id, client })
        })
        .collect())
}

/// The verdict's figures as JSON fields of the report, the invariants as objects.
fn verdict_json<S: serde::Serializer>(verdict: &Verdict, serializer: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Invariant<'a> {
        name: &'a str,
        outcome: &'a str,
        detail: &'a str,
        findings: &'a [String],
    }
    #[derive(Serialize)]
    struct Figures<'a> {
        counts: &'a counts::Counts,
        faults: &'a [counts::FaultCounts],
        users: &'a [counts::UserCounts],
        latency: &'a verdict::Latency,
        recovery: &'a verdict::Recovery,
        invariants: Vec<Invariant<'a>>,
    }
    Figures {
        counts: &verdict.counts,
        faults: &verdict.faults,
        users: &verdict.users,
        latency: &verdict.latency,
        recovery: &verdict.recovery,
        invariants: verdict
            .invariants
            .iter()
            .map(|result| Invariant {
                name: result.name,
                outcome: result.outcome.word(),
                detail: &result.detail,
                findings: &result.findings,
            })
            .collect(),
    }
    .serialize(serializer)
}
