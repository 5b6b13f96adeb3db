//! Faults the harness injects between the service and its dependencies, and the vocabulary
//! scenarios use to name them.
//!
//! Four families, one per place a dependency can break:
//! - a toxic on the fault proxy between the service and the database or the auth server
//!   (Toxiproxy's toxics and HTTP API; [`proxy`]);
//! - a process or container fault: stop, kill -9, pause, resume, restart;
//! - a network fault, containers only: disconnect the container from the stack's network;
//! - an HTTP fault of the auth upstream that a TCP proxy cannot make (a 500, a 429, a user who
//!   is not the token's subject...), served by a wiremock server the `auth` proxy is pointed at.

pub mod auth_http;
pub mod proxy;

use std::fmt;

/// A hop the fault proxy sits on, by the proxy's name: `db` (the served stages and the data
/// API → PostgreSQL), `auth` (the served stages and the gateway → the auth server), `rest` (the
/// gateway → the data API) and `gateway` (clients of `API_URL` → the gateway).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dependency {
    Db,
    Auth,
    Rest,
    Gateway,
}

impl Dependency {
    pub const ALL: [Dependency; 4] = [
        Dependency::Db,
        Dependency::Auth,
        Dependency::Rest,
        Dependency::Gateway,
    ];

    /// The proxy's name, as Toxiproxy clients see it.
    pub fn name(self) -> &'static str {
        match self {
            Dependency::Db => "db",
            Dependency::Auth => "auth",
            Dependency::Rest => "rest",
            Dependency::Gateway => "gateway",
        }
    }

    /// The names, for error messages: `db, auth, rest or gateway`.
    pub fn names() -> String {
        let names: Vec<&str> = Self::ALL.iter().map(|d| d.name()).collect();
        let (last, rest) = names.split_last().expect("there are dependencies");
        format!("{} or {last}", rest.join(", "))
    }

    pub fn from_name(name: &str) -> Option<Dependency> {
        Self::ALL.into_iter().find(|d| d.name() == name)
    }
}

impl fmt::Display for Dependency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What to do to a dependency's process (native) or container (containers provider).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessAction {
    /// Graceful stop (SIGINT to PostgreSQL, SIGTERM to the auth server; `docker stop`).
    Stop,
    /// SIGKILL (`docker kill`).
    Kill,
    /// SIGSTOP to the process group (`docker pause`): connections hang, nothing is refused.
    Pause,
    /// SIGCONT (`docker unpause`).
    Resume,
    /// Start it again on the same data, port and address (stopping it first if it runs).
    Restart,
}

impl ProcessAction {
    pub const ALL: [ProcessAction; 5] = [
        ProcessAction::Stop,
        ProcessAction::Kill,
        ProcessAction::Pause,
        ProcessAction::Resume,
        ProcessAction::Restart,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ProcessAction::Stop => "stop",
            ProcessAction::Kill => "kill",
            ProcessAction::Pause => "pause",
            ProcessAction::Resume => "resume",
            ProcessAction::Restart => "restart",
        }
    }

    pub fn from_name(name: &str) -> Option<ProcessAction> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// Containers only: take a container off the stack's network, or put it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkAction {
    Disconnect,
    Reconnect,
}

impl NetworkAction {
    pub fn name(self) -> &'static str {
        match self {
            NetworkAction::Disconnect => "disconnect",
            NetworkAction::Reconnect => "reconnect",
        }
    }

    pub fn from_name(name: &str) -> Option<NetworkAction> {
        [NetworkAction::Disconnect, NetworkAction::Reconnect]
            .into_iter()
            .find(|a| a.name() == name)
    }
}

/// How the auth upstream misbehaves at the HTTP level (served by wiremock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthHttpFault {
    /// 500 with GoTrue's error JSON.
    ServerError,
    /// 503 with a plain-text body, as a load balancer in front of GoTrue answers.
    Unavailable,
    /// 429 `over_request_rate_limit` with `Retry-After: 30`.
    RateLimited,
    /// 200 with a body that is not JSON.
    MalformedJson,
    /// 200 whose headers come at once and whose body arrives after longer than any timeout.
    SlowBody,
    /// 200 with a well-formed user who is not the token's subject.
    OtherUser,
}

impl AuthHttpFault {
    pub const ALL: [AuthHttpFault; 6] = [
        AuthHttpFault::ServerError,
        AuthHttpFault::Unavailable,
        AuthHttpFault::RateLimited,
        AuthHttpFault::MalformedJson,
        AuthHttpFault::SlowBody,
        AuthHttpFault::OtherUser,
    ];

    /// The name scenario files use: `auth_http = "429"`.
    pub fn name(self) -> &'static str {
        match self {
            AuthHttpFault::ServerError => "500",
            AuthHttpFault::Unavailable => "503",
            AuthHttpFault::RateLimited => "429",
            AuthHttpFault::MalformedJson => "malformed-json",
            AuthHttpFault::SlowBody => "slow-body",
            AuthHttpFault::OtherUser => "other-user",
        }
    }

    pub fn from_name(name: &str) -> Option<AuthHttpFault> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// One fault as a scenario names it.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// A Toxiproxy toxic on the dependency's proxy.
    Toxic {
        dependency: Dependency,
        toxic: ToxicSpec,
    },
    /// The proxy refuses connections (Toxiproxy: the proxy disabled).
    Down {
        dependency: Dependency,
    },
    Process {
        dependency: Dependency,
        action: ProcessAction,
    },
    Network {
        dependency: Dependency,
        action: NetworkAction,
    },
    AuthHttp(AuthHttpFault),
}

impl Fault {
    /// The dependency this fault acts on.
    pub fn dependency(&self) -> Dependency {
        match self {
            Fault::Toxic { dependency, .. }
            | Fault::Down { dependency }
            | Fault::Process { dependency, .. }
            | Fault::Network { dependency, .. } => *dependency,
            Fault::AuthHttp(_) => Dependency::Auth,
        }
    }
}

/// Which way bytes flow through a proxy, as Toxiproxy names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    /// Client → upstream (requests).
    Upstream,
    /// Upstream → client (responses). Toxiproxy's default.
    Downstream,
}

/// A toxic as Toxiproxy's API takes it: `{"name", "type", "stream", "toxicity", "attributes"}`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ToxicSpec {
    /// Defaults to `<type>_<stream>` as in Toxiproxy.
    #[serde(default)]
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ToxicKind,
    #[serde(default = "default_stream")]
    pub stream: Stream,
    /// Probability in 0..=1 that a connection gets the toxic; default 1.
    #[serde(default = "default_toxicity")]
    pub toxicity: f32,
    #[serde(default)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

fn default_stream() -> Stream {
    Stream::Downstream
}

fn default_toxicity() -> f32 {
    1.0
}

/// Toxiproxy's toxic types (their attributes, in milliseconds or bytes, as Toxiproxy's):
/// latency {latency, jitter}, timeout {timeout}, reset_peer {timeout}, slow_close {delay},
/// bandwidth {rate KB/s}, slicer {average_size, size_variation, delay µs}, limit_data {bytes};
/// and ours, `down` {}: while present the proxy refuses connections as if disabled (Toxiproxy
/// has no such toxic; the issue asks for "a `down` toxic through `FAULTS_URL`").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToxicKind {
    Latency,
    Timeout,
    ResetPeer,
    SlowClose,
    Bandwidth,
    Slicer,
    LimitData,
    Down,
}

impl ToxicKind {
    pub const ALL: [ToxicKind; 8] = [
        ToxicKind::Latency,
        ToxicKind::Timeout,
        ToxicKind::ResetPeer,
        ToxicKind::SlowClose,
        ToxicKind::Bandwidth,
        ToxicKind::Slicer,
        ToxicKind::LimitData,
        ToxicKind::Down,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ToxicKind::Latency => "latency",
            ToxicKind::Timeout => "timeout",
            ToxicKind::ResetPeer => "reset_peer",
            ToxicKind::SlowClose => "slow_close",
            ToxicKind::Bandwidth => "bandwidth",
            ToxicKind::Slicer => "slicer",
            ToxicKind::LimitData => "limit_data",
            ToxicKind::Down => "down",
        }
    }

    pub fn from_name(name: &str) -> Option<ToxicKind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// Why a fault could not be applied or cleared: the message names the fault and the cause.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FaultError(pub String);

/// A boxed future, so [`FaultInjector`] can be used as `dyn`.
pub type FaultFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), FaultError>> + Send + 'a>>;

/// What the runner needs from a stack to inject faults between steps.
pub trait FaultInjector: Send + Sync {
    /// Applies one fault; it stays until [`FaultInjector::clear`] for its dependency.
    fn apply<'a>(&'a self, fault: &'a Fault) -> FaultFuture<'a>;

    /// Returns `dependency` to health, whatever was done to it: removes its toxics, enables its
    /// proxy, points it back at the real server, resumes or restarts its process and reconnects
    /// its container. Clearing a healthy dependency does nothing.
    fn clear(&self, dependency: Dependency) -> FaultFuture<'_>;
}
