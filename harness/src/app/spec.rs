//! What a `[service.NAME]` table declares: the typed model the lifecycle runs from.
//!
//! The project loader builds it from `harness.toml` (checking every template name and regex
//! there, with positions); a Rust caller may build it directly, every field being public.

use std::{path::PathBuf, time::Duration};

use regex::Regex;

use super::env::{EnvTemplate, Preset};

/// How long a service may take to become ready unless it says otherwise. Playwright's default,
/// and room for a cold `next dev` or `npm install`-less first compile on a loaded CI machine;
/// a service that is not ready by then is reported with its output, never waited on forever.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a service has between SIGTERM and SIGKILL unless it says otherwise: enough for a
/// web server to close its connections, short enough that a stuck one does not stall a run.
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// One service of the project, as declared.
#[derive(Debug, Clone)]
pub struct ServiceSpec {
    /// The table's name: what scenarios call it (`stage = "NAME"`).
    pub name: String,
    /// Run as `sh -c COMMAND`, in a process group of its own.
    pub command: String,
    /// Absolute; `cwd` in harness.toml is relative to the file.
    pub cwd: PathBuf,
    /// Explicit variables in file order; they win over the preset's.
    pub env: Vec<(String, EnvTemplate)>,
    pub preset: Option<Preset>,
    pub port: PortChoice,
    /// Variables of the harness's own environment passed on as they are.
    pub inherit_env: Vec<String>,
    pub ready: Readiness,
    pub ready_timeout: Duration,
    pub stop_timeout: Duration,
}

/// The port a service listens on, given to it as `PORT` and `{{PORT}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortChoice {
    /// The service chooses; no `PORT`, and readiness cannot be a port.
    Unset,
    /// This port, refused at start when something already listens on it.
    Fixed(u16),
    /// A free port chosen at start.
    Auto,
}

/// What must hold before a service counts as ready: every probe given.
#[derive(Debug, Clone, Default)]
pub struct Readiness {
    pub url: Option<ReadyUrl>,
    /// A line of its stdout or stderr matching this.
    pub log: Option<Regex>,
    pub tcp: Option<ReadyTcp>,
}

impl Readiness {
    /// Whether no probe is declared.
    pub fn is_empty(&self) -> bool {
        self.url.is_none() && self.log.is_none() && self.tcp.is_none()
    }
}

/// An HTTP GET that must answer one of `statuses`.
#[derive(Debug, Clone)]
pub struct ReadyUrl {
    /// A full URL, or a path on `http://127.0.0.1:{{PORT}}`; may use `{{PORT}}`.
    pub url: EnvTemplate,
    pub statuses: StatusSet,
}

/// A TCP connect that must succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadyTcp {
    /// The service's own port.
    ServicePort,
    Port(u16),
}

/// The HTTP statuses that count as ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSet {
    ranges: Vec<(u16, u16)>,
}

impl StatusSet {
    /// Inclusive ranges, e.g. `[(200, 299), (401, 401)]`.
    pub fn new(ranges: Vec<(u16, u16)>) -> StatusSet {
        StatusSet { ranges }
    }

    pub fn contains(&self, status: u16) -> bool {
        self.ranges
            .iter()
            .any(|&(low, high)| (low..=high).contains(&status))
    }
}

impl Default for StatusSet {
    /// Playwright's `webServer.url` rule: 2xx, 3xx, and 400–403, since a route that wants a
    /// token answering 401 is up.
    fn default() -> Self {
        StatusSet::new(vec![(200, 399), (400, 403)])
    }
}

impl std::fmt::Display for StatusSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .ranges
            .iter()
            .map(|&(low, high)| match (low, high) {
                (l, h) if l == h => l.to_string(),
                (l, h) if l % 100 == 0 && h == l + 99 => format!("{}xx", l / 100),
                (l, h) => format!("{l}-{h}"),
            })
            .collect();
        f.write_str(&parts.join(", "))
    }
}
