//! Scenario files: the typed model the runner replays.
//!
//! A scenario is parsed and validated completely before anything runs (see [`parse`]); the runner
//! never sees TOML. The format is documented, with an example of every field, in
//! `scenarios/README.md`.

mod fault;
mod keys;
mod parse;
mod template;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::faults::{Dependency, Fault};
pub use fault::describe as describe_fault;
pub use keys::ScenarioKeys;
pub use parse::{ParseError, Position};
pub use template::{Placeholder, Rendered, Template, TemplateError, TokenKind};

/// One scenario file.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The file stem: `phantom-cookie` for `scenarios/phantom-cookie.toml`.
    pub name: String,
    pub path: PathBuf,
    /// Why this scenario exists, in plain words.
    pub story: String,
    pub users: Vec<User>,
    pub steps: Vec<Step>,
    /// Why this scenario may commit a write it could not acknowledge (the connection lost after
    /// the commit): such a write is then reported as ambiguous, not as a failure.
    pub ambiguous_writes: Option<String>,
    /// The stack provider this scenario needs; with another it is skipped, with the reason.
    pub requires: Option<Requirement>,
    /// The key profile this scenario's story needs (`keys = "cli"`): it gets a stack of that
    /// profile whatever the run's. None: any profile tells the same story.
    pub keys: Option<ScenarioKeys>,
    /// The budgets this scenario's story needs, where they differ from the stack's defaults:
    /// a fault scenario waits out exactly what it sets, and its snapshot shows it.
    pub timeouts: Timeouts,
}

/// `[timeouts]`: how long the reference service waits for the auth server and the database,
/// and how long the gateway waits for its upstreams. `None`: the stack's default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timeouts {
    pub auth: Option<Duration>,
    pub db: Option<Duration>,
    pub gateway: Option<Duration>,
}

impl Timeouts {
    pub fn is_default(&self) -> bool {
        *self == Timeouts::default()
    }

    /// `auth 500 ms, gateway 1000 ms`: the budgets set, for snapshots and reports.
    pub fn describe(&self) -> String {
        [
            ("auth", self.auth),
            ("db", self.db),
            ("gateway", self.gateway),
        ]
        .into_iter()
        .filter_map(|(name, budget)| Some(format!("{name} {} ms", budget?.as_millis())))
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// A provider a scenario cannot run without.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    /// Network faults exist only between containers.
    Containers,
}

impl Requirement {
    /// The provider's name, as [`crate::run::Targets::provider`] gives it.
    pub fn provider(self) -> &'static str {
        match self {
            Requirement::Containers => "containers",
        }
    }
}

/// A user the scenario needs, created fresh through the auth server for every run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub created_by: UserCreation,
}

/// How a user comes to exist: as a person would (sign-up) or as an operator would (admin API).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserCreation {
    SignUp,
    Admin,
}

/// One step: faults cleared and applied, then (usually) a request and what must hold afterwards.
#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    /// Dependencies returned to health first (`clear = ["db"]`; `["all"]` names both).
    pub clear: Vec<Dependency>,
    /// A rotation step applied after the clear, before the faults.
    pub keys: Option<crate::signing::KeyAction>,
    /// Faults applied before the request, kept until a later `clear`.
    pub faults: Vec<Fault>,
    /// Faults applied before the request and removed after it, whatever its outcome.
    pub during: Vec<Fault>,
    /// Re-send the request until its expectations hold, for up to this long.
    pub recover: Option<Duration>,
    /// `None` for a step that only applies or clears faults.
    pub request: Option<Request>,
}

/// A step's request and what must hold afterwards.
#[derive(Debug, Clone)]
pub struct Request {
    pub target: Target,
    pub method: String,
    pub path: Template,
    /// In order, duplicates kept: exactly what goes on the wire.
    pub headers: Vec<(String, Template)>,
    pub body: Option<Body>,
    /// Name → dotted JSON path in the response body.
    pub captures: Vec<(String, String)>,
    pub expect: Expect,
}

/// Where a step's request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A stage of the service under test, by name (`reference`, `cookie-first`, ...).
    Stage(String),
    /// The auth server's root.
    Auth,
    /// The project URL: the gateway's root (`API_URL`), in front of `/auth/v1` and `/rest/v1`.
    Api,
    /// Any URL; `path` is appended.
    Url(Template),
}

#[derive(Debug, Clone)]
pub enum Body {
    /// Sent byte for byte; no content type is added.
    Raw(Template),
    /// Sent as `application/json`; every string in it is a template.
    Json(serde_json::Value),
}

/// What must hold after a step. Anything not stated is still caught by the snapshot.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    /// The request must get no HTTP answer at all (a refused or reset connection): the truth
    /// when nothing listens. Excludes every expectation on the response; `sql` still runs.
    pub no_answer: bool,
    pub status: Option<u16>,
    /// Lowercase header name → exact value (a template).
    pub headers: Vec<(String, Template)>,
    /// Dotted JSON path → exact JSON value (strings are templates).
    pub json: Vec<(String, serde_json::Value)>,
    pub body_contains: Vec<Template>,
    /// A query run as superuser after the step → the single value it must return.
    pub sql: Vec<(Template, serde_json::Value)>,
}

impl Scenario {
    /// Reads and validates a scenario file. `stages` are the stage names a step may target.
    pub fn load(path: impl AsRef<Path>, stages: &[&str]) -> Result<Scenario, ParseError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|error| ParseError::io(path, &error))?;
        Scenario::parse(path, &text, stages)
    }

    /// Parses scenario text; `path` is used for the name and in errors.
    pub fn parse(path: &Path, text: &str, stages: &[&str]) -> Result<Scenario, ParseError> {
        parse::parse(path, text, stages)
    }

    /// Every stage this scenario sends a request to, in order of first use.
    pub fn stages(&self) -> Vec<&str> {
        let mut stages = Vec::new();
        for request in self.steps.iter().filter_map(|step| step.request.as_ref()) {
            if let Target::Stage(stage) = &request.target
                && !stages.contains(&stage.as_str())
            {
                stages.push(stage.as_str());
            }
        }
        stages
    }

    /// Whether any step rotates the signing keys: the start's are put back after it.
    pub fn rotates_keys(&self) -> bool {
        self.steps.iter().any(|step| step.keys.is_some())
    }

    /// Whether any step clears or applies a fault: the invariants are checked only then.
    pub fn injects_faults(&self) -> bool {
        self.steps.iter().any(Step::touches_faults)
    }
}

impl Step {
    /// Every placeholder the step uses, in its request and in its expectations.
    pub fn placeholders(&self) -> Vec<Placeholder> {
        self.request
            .as_ref()
            .map_or_else(Vec::new, Request::placeholders)
    }

    pub fn touches_faults(&self) -> bool {
        !(self.clear.is_empty() && self.faults.is_empty() && self.during.is_empty())
    }
}

impl Request {
    /// Every placeholder the request uses, in itself and in its expectations.
    pub fn placeholders(&self) -> Vec<Placeholder> {
        let mut templates: Vec<&Template> = vec![&self.path];
        if let Target::Url(url) = &self.target {
            templates.push(url);
        }
        templates.extend(self.headers.iter().map(|(_, value)| value));
        if let Some(Body::Raw(body)) = &self.body {
            templates.push(body);
        }
        templates.extend(self.expect.headers.iter().map(|(_, value)| value));
        templates.extend(&self.expect.body_contains);
        templates.extend(self.expect.sql.iter().map(|(query, _)| query));
        let mut found: Vec<Placeholder> = templates
            .iter()
            .flat_map(|template| template.placeholders().cloned())
            .collect();

        // Strings inside JSON values are templates too.
        let mut strings = Vec::new();
        if let Some(Body::Json(json)) = &self.body {
            collect_strings(json, &mut strings);
        }
        let expected_json = self.expect.json.iter().map(|(_, value)| value);
        for value in expected_json.chain(self.expect.sql.iter().map(|(_, value)| value)) {
            collect_strings(value, &mut strings);
        }
        for text in strings {
            if let Ok(template) = Template::parse(text) {
                found.extend(template.placeholders().cloned());
            }
        }
        found
    }
}

fn collect_strings<'a>(value: &'a serde_json::Value, into: &mut Vec<&'a str>) {
    match value {
        serde_json::Value::String(text) => into.push(text),
        serde_json::Value::Array(items) => {
            items.iter().for_each(|item| collect_strings(item, into))
        }
        serde_json::Value::Object(map) => map.values().for_each(|item| collect_strings(item, into)),
        _ => {}
    }
}

/// The `*.toml` files of a directory, sorted by name.
pub fn files_in(dir: impl AsRef<Path>) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    Ok(files)
}
