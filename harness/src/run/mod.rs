//! Replaying scenarios: users, tokens, requests, captures and expectations.
//!
//! The runner turns a [`Scenario`] into a [`ScenarioReport`]: every exchange in redacted form
//! (what the snapshot shows) and every expectation that failed. It knows nothing of how the
//! stack was started: [`Targets`] is all it needs, so it replays as well against a user's own
//! running service as against the embedded stack.

mod exchange;
mod expect;
mod injection;
pub mod invariants;
mod judged;
mod replay;
pub mod tokens;
mod users;

use std::sync::Arc;
use std::time::{Duration, Instant};

pub use exchange::{Received, SentRequest};
pub use invariants::{InvariantResult, Outcome};
pub use judged::{Budget, InvariantSpec, WriteTable};
pub use users::Account;

use crate::faults::{Dependency, FaultInjector};
use crate::scenario::Scenario;
use crate::signing::KeyControl;
use replay::Replay;

/// Response headers a snapshot shows; the rest (date, content-length, ...) is noise.
pub const SNAPSHOT_HEADERS: &[&str] = &[
    "content-type",
    "www-authenticate",
    "retry-after",
    "allow",
    "location",
    "set-cookie",
    "x-sb-error-code",
    "x-request-id",
    // Who answered: the gateway (`kong/2.8.1`), the data API (`postgrest/…`) behind it (`via`).
    "server",
    "via",
    // The data API's.
    "content-range",
    "content-profile",
    "preference-applied",
];

/// Where a replay sends its requests, the project's keys, and how faults are injected.
#[derive(Clone)]
pub struct Targets {
    pub auth_url: String,
    /// The project URL (the gateway).
    pub api_url: String,
    /// Superuser URL for `sql` expectations.
    pub db_url: String,
    pub jwt_secret: String,
    pub anon_key: String,
    pub service_role_key: String,
    /// Stage name → base URL.
    pub stages: Vec<(String, String)>,
    /// How to break the service's dependencies; `None`: scenarios with faults cannot run.
    pub faults: Option<Arc<dyn FaultInjector>>,
    /// The service's own timeouts, which bound how long a faulted request may take.
    pub service_timeouts: Option<ServiceTimeouts>,
    /// The stack's provider (`native`, `containers`, ...), for scenarios' `requires`.
    pub provider: String,
    /// The signing keys: read to mint tokens, rotated by `keys` steps, reset before each
    /// scenario.
    pub keys: Arc<dyn KeyControl>,
}

impl std::fmt::Debug for Targets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Targets")
            .field("auth_url", &self.auth_url)
            .field("api_url", &self.api_url)
            .field("db_url", &self.db_url)
            .field("stages", &self.stages)
            .field("faults", &self.faults.as_ref().map(|_| "FaultInjector"))
            .field("service_timeouts", &self.service_timeouts)
            .field("provider", &self.provider)
            .field("keys", &self.keys.current().profile().to_string())
            .finish_non_exhaustive()
    }
}

/// How long the service waits for each dependency before answering 503/504, and how long the
/// gateway waits for its upstreams before answering 504.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceTimeouts {
    pub auth: Duration,
    pub db: Duration,
    pub gateway: Duration,
}

impl ServiceTimeouts {
    /// The budget a request gets for `dependency`: the reference service's own for the database
    /// and the auth server; the gateway's for the hops only the gateway crosses.
    pub fn of(self, dependency: Dependency) -> Duration {
        match dependency {
            Dependency::Auth => self.auth,
            Dependency::Db => self.db,
            Dependency::Rest | Dependency::Gateway => self.gateway,
        }
    }
}

/// Where the server's log lines for a request id come from (an in-process service's tracing).
pub trait LogSource: Send + Sync {
    fn lines(&self, request_id: &str) -> Vec<String>;
}

/// A project's own services as a replay sees them (the runner does not start or stop them):
/// where each is reached, whether each still runs, and what they printed when.
pub trait ServiceWatch: Send + Sync {
    /// `(name, base URL)` of every service a scenario can reach as `stage = "NAME"`.
    fn urls(&self) -> Vec<(String, String)>;
    /// `Err` naming a service that has exited by itself, with the tail of its output.
    fn check(&self) -> Result<(), String>;
    /// Every line printed from `from` to `to`, in the order printed; `[name] ` first when there
    /// is more than one service.
    fn lines(&self, from: Instant, to: Instant) -> Vec<String>;
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("setting up the scenario failed: {0}")]
    Setup(String),
}

impl RunError {
    pub(crate) fn setup(message: impl Into<String>) -> RunError {
        RunError::Setup(message.into())
    }
}

/// The outcome of one scenario.
#[derive(Debug, Clone)]
pub struct ScenarioReport {
    pub name: String,
    pub steps: Vec<StepReport>,
    /// Set when the scenario could not run at all (users could not be created, ...).
    pub setup_error: Option<String>,
    /// Set when the scenario was not run on purpose (it needs another provider): not a failure.
    pub skipped: Option<String>,
    /// The budgets the scenario set (`[timeouts]`), as the snapshot shows them.
    pub timeouts: Option<String>,
    /// Checked after every scenario that injected a fault; empty otherwise.
    pub invariants: Vec<InvariantResult>,
    /// From the last clear of the faults to the first reference 200 after it.
    pub recovery: Option<Duration>,
    /// Set when the faults could not all be cleared at the end: the stack may still be broken.
    pub cleanup_error: Option<String>,
    pub elapsed: Duration,
}

/// The outcome of one step, redacted for display.
#[derive(Debug, Clone)]
pub struct StepReport {
    pub name: String,
    /// What was done to the dependencies first: `clear: db`, `fault: db latency 3000 ms
    /// (downstream)`, `during: auth down`.
    pub actions: Vec<String>,
    /// `None` for a step that only applies or clears faults.
    pub exchange: Option<Exchange>,
    pub logs: Vec<String>,
    /// What the project's services printed while the request was in flight, redacted
    /// (`[name] ` first when the project has more than one service).
    pub service_logs: Vec<String>,
    pub failures: Vec<String>,
    pub elapsed: Duration,
}

/// A request and its answer, redacted.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub request: SentRequest,
    /// Status, the headers of [`SNAPSHOT_HEADERS`] and the body; or why no answer came.
    pub response: Result<RedactedResponse, String>,
}

#[derive(Debug, Clone)]
pub struct RedactedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl ScenarioReport {
    pub fn passed(&self) -> bool {
        self.setup_error.is_none()
            && self.cleanup_error.is_none()
            && self.steps.iter().all(|step| step.failures.is_empty())
            && self.invariants_held()
    }

    /// Everything that failed, worded for a person: setup, each step's expectations (`step 3
    /// "name": ...`), the final clear of the faults and every violated invariant.
    pub fn failures(&self) -> Vec<String> {
        let steps = self.steps.iter().enumerate().flat_map(|(index, step)| {
            step.failures
                .iter()
                .map(move |failure| format!("step {} \"{}\": {failure}", index + 1, step.name))
        });
        let invariants = self
            .invariants
            .iter()
            .filter(|invariant| invariant.outcome == Outcome::Violated)
            .flat_map(|invariant| invariant.findings.iter().cloned());
        self.setup_error
            .iter()
            .cloned()
            .chain(steps)
            .chain(self.cleanup_error.iter().cloned())
            .chain(invariants)
            .collect()
    }

    /// No invariant violated (an ambiguous write is reported, not failed).
    pub fn invariants_held(&self) -> bool {
        self.invariants
            .iter()
            .all(|invariant| invariant.outcome != Outcome::Violated)
    }

    /// `invariants: 4/4 held (recovered in 1.2 s)`, or `None` when none were checked.
    pub fn invariants_summary(&self) -> Option<String> {
        if self.invariants.is_empty() {
            return None;
        }
        let held = self
            .invariants
            .iter()
            .filter(|invariant| invariant.outcome == Outcome::Held)
            .count();
        let mut text = format!("invariants: {held}/{} held", self.invariants.len());
        let ambiguous = self
            .invariants
            .iter()
            .filter(|invariant| invariant.outcome == Outcome::Ambiguous)
            .count();
        if ambiguous > 0 {
            text.push_str(&format!(", {ambiguous} ambiguous"));
        }
        if let Some(recovery) = self.recovery {
            text.push_str(&format!(" (recovered in {:.1} s)", recovery.as_secs_f64()));
        }
        Some(text)
    }
}

/// Replays scenarios against one set of targets.
pub struct Runner {
    targets: Targets,
    http: reqwest::Client,
    logs: Option<Arc<dyn LogSource>>,
    services: Option<Arc<dyn ServiceWatch>>,
    invariants: InvariantSpec,
}

impl Runner {
    pub fn new(targets: Targets) -> Runner {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            // Scenarios state every header; a client that adds its own would lie about them.
            .no_gzip()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a default reqwest client builds");
        Runner {
            targets,
            http,
            logs: None,
            services: None,
            invariants: InvariantSpec::reference(),
        }
    }

    /// A runner for the stack's own auth server, database and served stages, with the service's
    /// log lines from the global [`LogBook`](crate::logs::LogBook) (see [`crate::logs::install`]).
    pub fn for_stack(stack: &crate::Stack) -> Runner {
        let targets = Targets {
            auth_url: stack.auth_url().to_owned(),
            api_url: stack.api_url().to_owned(),
            db_url: stack.db_url().to_owned(),
            jwt_secret: stack.jwt_secret().to_owned(),
            anon_key: stack.anon_key().to_owned(),
            service_role_key: stack.service_role_key().to_owned(),
            stages: stack
                .stages()
                .urls()
                .map(|(stage, url)| (stage.name().to_owned(), url.to_owned()))
                .collect(),
            faults: stack
                .faults()
                .map(|faults| Arc::clone(faults) as Arc<dyn crate::faults::FaultInjector>),
            service_timeouts: Some(stack.service_timeouts()),
            provider: stack.provider().name().to_owned(),
            keys: stack.key_control(),
        };
        Runner::new(targets).with_logs(Arc::new(crate::logs::LogBook::global()))
    }

    /// Attaches the service's log lines to each exchange.
    pub fn with_logs(mut self, logs: Arc<dyn LogSource>) -> Runner {
        self.logs = Some(logs);
        self
    }

    /// Reaches the project's services as stages, checks them before and after every step, and
    /// adds what they printed during a step's request to its report.
    pub fn with_services(mut self, services: Arc<dyn ServiceWatch>) -> Runner {
        self.targets.stages.extend(services.urls());
        self.services = Some(services);
        self
    }

    /// Judges this stage and its writes after a fault scenario (default: the reference's).
    pub fn with_invariants(mut self, invariants: InvariantSpec) -> Runner {
        self.invariants = invariants;
        self
    }

    pub fn targets(&self) -> &Targets {
        &self.targets
    }

    /// Replays every step of `scenario` in order; a failed expectation does not stop the rest.
    /// A scenario that injected faults ends with every touched dependency cleared and its
    /// invariants checked.
    pub async fn replay(&self, scenario: &Scenario) -> ScenarioReport {
        let started = Instant::now();
        let mut report = ScenarioReport {
            name: scenario.name.clone(),
            steps: Vec::new(),
            setup_error: None,
            skipped: None,
            timeouts: None,
            invariants: Vec::new(),
            recovery: None,
            cleanup_error: None,
            elapsed: Duration::ZERO,
        };
        if let Some(requirement) = scenario.requires
            && requirement.provider() != self.targets.provider
        {
            report.skipped = Some(format!(
                "needs the {} provider; this run uses {}",
                requirement.provider(),
                self.targets.provider
            ));
            return report;
        }
        if !scenario.timeouts.is_default() {
            if let Err(error) = self.check_timeouts(scenario) {
                report.setup_error = Some(error);
                return report;
            }
            report.timeouts = Some(scenario.timeouts.describe());
        }
        if let Err(error) = self.check_keys(scenario) {
            report.setup_error = Some(error);
            return report;
        }
        // The start's keys, and verifiers that have cached nothing, whatever came before.
        if let Err(error) = self.targets.keys.reset().await {
            report.setup_error = Some(error);
            return report;
        }
        match Replay::prepare(self, scenario, started).await {
            Ok(mut replay) => {
                for (index, step) in scenario.steps.iter().enumerate() {
                    let step_report = replay.step(index + 1, step).await;
                    report.steps.push(step_report);
                }
                if scenario.injects_faults() {
                    let checked = replay.finish(scenario).await;
                    report.invariants = checked.invariants;
                    report.recovery = checked.recovery;
                    report.cleanup_error = checked.cleanup_error;
                }
                // Whoever uses the stack next gets the keys it started with.
                if scenario.rotates_keys()
                    && let Err(error) = self.targets.keys.reset().await
                {
                    let previous = report.cleanup_error.take();
                    report.cleanup_error = Some(match previous {
                        Some(previous) => format!("{previous}; {error}"),
                        None => error,
                    });
                }
            }
            Err(error) => report.setup_error = Some(error.to_string()),
        }
        report.elapsed = started.elapsed();
        report
    }

    /// A scenario whose story needs a key profile runs only on a stack of that profile.
    fn check_keys(&self, scenario: &Scenario) -> Result<(), String> {
        let Some(wanted) = scenario.keys else {
            return Ok(());
        };
        let current = self.targets.keys.current();
        let actual = current.profile();
        if actual.name() == wanted.name() {
            return Ok(());
        }
        Err(format!(
            "the scenario needs the `{}` key profile and this stack runs `{actual}`: start its \
             stack with `StackBuilder::scenario(&scenario)` (as `harness run` does)",
            wanted.name()
        ))
    }

    /// A scenario's story holds only with the budgets it sets: replaying it on a stack with
    /// other ones would tell another story, so that is refused, saying how to get the right one.
    fn check_timeouts(&self, scenario: &Scenario) -> Result<(), String> {
        let Some(actual) = self.targets.service_timeouts else {
            return Err(format!(
                "the scenario sets timeouts ({}), and this target's are unknown",
                scenario.timeouts.describe()
            ));
        };
        let wanted = &scenario.timeouts;
        let pairs = [
            ("auth", wanted.auth, actual.auth),
            ("db", wanted.db, actual.db),
            ("gateway", wanted.gateway, actual.gateway),
        ];
        for (name, wanted, actual) in pairs {
            if let Some(wanted) = wanted
                && wanted != actual
            {
                return Err(format!(
                    "the scenario needs a {name} timeout of {} ms and this stack has {} ms: \
                     start its stack with `StackBuilder::timeouts(&scenario.timeouts)`",
                    wanted.as_millis(),
                    actual.as_millis()
                ));
            }
        }
        Ok(())
    }
}
