//! Replaying scenarios: users, tokens, requests, captures and expectations.
//!
//! The runner turns a [`Scenario`] into a [`ScenarioReport`]: every exchange in redacted form
//! (what the snapshot shows) and every expectation that failed. It knows nothing of how the
//! stack was started: [`Targets`] is all it needs, so it replays as well against a user's own
//! running service as against the embedded stack.

mod exchange;
mod expect;
mod replay;
pub mod tokens;
mod users;

use std::sync::Arc;
use std::time::{Duration, Instant};

pub use exchange::{Received, SentRequest};
pub use users::Account;

use crate::scenario::Scenario;
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
];

/// Where a replay sends its requests, and the project's keys.
#[derive(Debug, Clone)]
pub struct Targets {
    pub auth_url: String,
    /// Superuser URL for `sql` expectations.
    pub db_url: String,
    pub jwt_secret: String,
    pub anon_key: String,
    pub service_role_key: String,
    /// Stage name → base URL.
    pub stages: Vec<(String, String)>,
}

/// Where the server's log lines for a request id come from (an in-process service's tracing).
pub trait LogSource: Send + Sync {
    fn lines(&self, request_id: &str) -> Vec<String>;
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
    pub elapsed: Duration,
}

/// The outcome of one step, redacted for display.
#[derive(Debug, Clone)]
pub struct StepReport {
    pub name: String,
    pub request: SentRequest,
    /// Status, the headers of [`SNAPSHOT_HEADERS`] and the body; or why no answer came.
    pub response: Result<RedactedResponse, String>,
    pub logs: Vec<String>,
    pub failures: Vec<String>,
    pub elapsed: Duration,
}

#[derive(Debug, Clone)]
pub struct RedactedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl ScenarioReport {
    pub fn passed(&self) -> bool {
        self.setup_error.is_none() && self.steps.iter().all(|step| step.failures.is_empty())
    }
}

/// Replays scenarios against one set of targets.
pub struct Runner {
    targets: Targets,
    http: reqwest::Client,
    logs: Option<Arc<dyn LogSource>>,
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
        }
    }

    /// A runner for the stack's own auth server, database and served stages, with the service's
    /// log lines from the global [`LogBook`](crate::logs::LogBook) (see [`crate::logs::install`]).
    pub fn for_stack(stack: &crate::Stack) -> Runner {
        let targets = Targets {
            auth_url: stack.auth_url().to_owned(),
            db_url: stack.db_url().to_owned(),
            jwt_secret: stack.jwt_secret().to_owned(),
            anon_key: stack.anon_key().to_owned(),
            service_role_key: stack.service_role_key().to_owned(),
            stages: stack
                .stages()
                .urls()
                .map(|(stage, url)| (stage.name().to_owned(), url.to_owned()))
                .collect(),
        };
        Runner::new(targets).with_logs(Arc::new(crate::logs::LogBook::global()))
    }

    /// Attaches the service's log lines to each exchange.
    pub fn with_logs(mut self, logs: Arc<dyn LogSource>) -> Runner {
        self.logs = Some(logs);
        self
    }

    pub fn targets(&self) -> &Targets {
        &self.targets
    }

    /// Replays every step of `scenario` in order; a failed expectation does not stop the rest.
    pub async fn replay(&self, scenario: &Scenario) -> ScenarioReport {
        let started = Instant::now();
        let mut report = ScenarioReport {
            name: scenario.name.clone(),
            steps: Vec::new(),
            setup_error: None,
            elapsed: Duration::ZERO,
        };
        match Replay::prepare(self, scenario).await {
            Ok(mut replay) => {
                for step in &scenario.steps {
                    let step_report = replay.step(step).await;
                    report.steps.push(step_report);
                }
            }
            Err(error) => report.setup_error = Some(error.to_string()),
        }
        report.elapsed = started.elapsed();
        report
    }
}
