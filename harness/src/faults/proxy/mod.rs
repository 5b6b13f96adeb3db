//! A TCP fault proxy with Toxiproxy's toxics and HTTP API, in-process.
//!
//! The harness puts one proxy between the service and each dependency (`db`, `auth`); scenarios,
//! tests and any existing Toxiproxy client make the network misbehave through it. Toxics reach
//! connections that are already open, as in Toxiproxy: the service's pooled database connections
//! and keep-alive HTTP connections would never see a toxic that only hit new connections.
//!
//! ```no_run
//! # async fn example(upstream: std::net::SocketAddr) -> Result<(), harness::faults::proxy::ProxyError> {
//! use harness::faults::{Stream, ToxicKind, ToxicSpec, proxy::FaultProxy};
//!
//! let faults = FaultProxy::start().await?;
//! let listen = faults.add("db", upstream).await?; // point the service at `listen`
//! let mut latency = ToxicSpec::new(ToxicKind::Latency, Stream::Downstream);
//! latency.attributes.insert("latency".into(), 500.into());
//! faults.add_toxic("db", latency).await?;
//! faults.reset().await; // every proxy enabled, no toxics
//! # Ok(()) }
//! ```
//!
//! Where it differs from Toxiproxy, on purpose: unknown attributes, non-integer attributes, a toxicity outside
//! 0..=1 and a slicer with `average_size` 0 are refused with a 400; the timeout toxic's `timeout`
//! counts from when the toxic reached the connection (Toxiproxy restarts it on every chunk); and
//! a `down` toxic (no attributes, toxicity 1 only) that Toxiproxy lacks: while it is present
//! the proxy refuses connects and severs open connections exactly as when disabled, and shows
//! `enabled: false`; removing it listens again on the same address unless the user disabled
//! the proxy meanwhile.

mod api;
mod attributes;
mod link;
mod port;
mod registry;
mod toxics;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use serde_json::{Map, Value};
use tokio::sync::watch;

use super::{Stream, ToxicKind, ToxicSpec};
use registry::Registry;

/// The Toxiproxy release whose API this one answers like (`GET /version`).
pub const TOXIPROXY_VERSION: &str = "2.12.0";

/// A proxy as Toxiproxy's API shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProxyInfo {
    pub name: String,
    /// The bound address while enabled (`127.0.0.1:PORT`).
    pub listen: String,
    pub upstream: String,
    /// Whether it listens: false when disabled or while it has a `down` toxic.
    pub enabled: bool,
    /// Upstream toxics first, then downstream ones, each in the order they were added.
    pub toxics: Vec<ToxicSpec>,
}

/// Why a fault proxy operation failed; [`ProxyError::status`] is Toxiproxy's HTTP status for it.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("proxy not found: no proxy named `{proxy}` (proxies: {})", list(known))]
    UnknownProxy { proxy: String, known: Vec<String> },
    #[error("proxy already exists: `{0}`")]
    ProxyExists(String),
    #[error(
        "toxic not found: no toxic named `{toxic}` on proxy `{proxy}` (toxics: {})",
        list(known)
    )]
    UnknownToxic {
        proxy: String,
        toxic: String,
        known: Vec<String>,
    },
    #[error("toxic already exists: `{toxic}` on proxy `{proxy}`")]
    ToxicExists { proxy: String, toxic: String },
    #[error("bad toxic `{toxic}` on proxy `{proxy}`: {reason}")]
    BadToxic {
        proxy: String,
        toxic: String,
        reason: String,
    },
    #[error("missing required field: {0}")]
    MissingField(&'static str),
    #[error("bad request body: {0}")]
    BadRequest(String),
    #[error("proxy `{proxy}` cannot listen on {listen}: {source}")]
    Listen {
        proxy: String,
        listen: String,
        source: std::io::Error,
    },
    #[error("the fault proxy's control API cannot listen on 127.0.0.1: {0}")]
    Api(std::io::Error),
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

impl ProxyError {
    /// The HTTP status Toxiproxy answers with for this error.
    pub fn status(&self) -> u16 {
        match self {
            ProxyError::UnknownProxy { .. } | ProxyError::UnknownToxic { .. } => 404,
            ProxyError::ProxyExists(_) | ProxyError::ToxicExists { .. } => 409,
            ProxyError::BadToxic { .. }
            | ProxyError::MissingField(_)
            | ProxyError::BadRequest(_) => 400,
            ProxyError::Listen { .. } | ProxyError::Api(_) => 500,
        }
    }
}

impl ToxicSpec {
    /// A toxic with Toxiproxy's defaults: named `<type>_<stream>`, toxicity 1, attributes at
    /// their defaults until set.
    pub fn new(kind: ToxicKind, stream: Stream) -> ToxicSpec {
        ToxicSpec {
            name: String::new(),
            kind,
            stream,
            toxicity: 1.0,
            attributes: Map::new(),
        }
    }

    /// Sets one attribute: `ToxicSpec::new(ToxicKind::Latency, Stream::Downstream).with("latency", 500)`.
    pub fn with(mut self, attribute: &str, value: u64) -> ToxicSpec {
        self.attributes
            .insert(attribute.to_string(), Value::from(value));
        self
    }
}

/// The fault proxy: its proxies and its Toxiproxy-compatible control API on
/// `127.0.0.1:<free port>`. Dropping it stops the API, every listener and every connection
/// ([`FaultProxy::shutdown`] waits until they are closed).
pub struct FaultProxy {
    registry: Arc<Registry>,
    url: String,
    shutdown: watch::Sender<bool>,
}

impl FaultProxy {
    /// Starts the control API; add proxies with [`FaultProxy::add`] or over HTTP.
    pub async fn start() -> Result<FaultProxy, ProxyError> {
        let (shutdown, stopping) = watch::channel(false);
        let registry = Arc::new(Registry::new(stopping.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(ProxyError::Api)?;
        let addr = listener.local_addr().map_err(ProxyError::Api)?;
        tokio::spawn(api::serve(listener, registry.clone(), stopping));
        Ok(FaultProxy {
            registry,
            url: format!("http://{addr}"),
            shutdown,
        })
    }

    /// The control API's root, `http://127.0.0.1:PORT` (what Toxiproxy clients take).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Adds an enabled proxy listening on `127.0.0.1:<free port>` and returns that address.
    pub async fn add(&self, name: &str, upstream: SocketAddr) -> Result<SocketAddr, ProxyError> {
        let info = self
            .registry
            .create(name, "127.0.0.1:0", &upstream.to_string(), true)
            .await?;
        Ok(info
            .listen
            .parse()
            .expect("a bound listener's address parses"))
    }

    /// Toxiproxy's proxy creation: `listen` and `upstream` as `host:port`.
    pub async fn create(
        &self,
        name: &str,
        listen: &str,
        upstream: &str,
        enabled: bool,
    ) -> Result<ProxyInfo, ProxyError> {
        self.registry.create(name, listen, upstream, enabled).await
    }

    /// Connections accepted from now on go to `upstream`; open ones are closed.
    pub async fn set_upstream(&self, name: &str, upstream: SocketAddr) -> Result<(), ProxyError> {
        let upstream = upstream.to_string();
        self.registry
            .update(name, None, Some(&upstream), None)
            .await
            .map(drop)
    }

    /// Disabling closes the listener (connects are refused) and every open connection;
    /// enabling listens again on the same address.
    pub async fn set_enabled(&self, name: &str, enabled: bool) -> Result<(), ProxyError> {
        self.registry
            .update(name, None, None, Some(enabled))
            .await
            .map(drop)
    }

    /// Adds a toxic; it reaches open connections too. Returns it as stored: name and every
    /// attribute filled in.
    pub async fn add_toxic(&self, name: &str, toxic: ToxicSpec) -> Result<ToxicSpec, ProxyError> {
        self.registry.add_toxic(name, toxic).await
    }

    /// Changes some attributes (the others stay) and, if given, the toxicity of a toxic.
    pub async fn update_toxic(
        &self,
        name: &str,
        toxic: &str,
        attributes: Map<String, Value>,
        toxicity: Option<f32>,
    ) -> Result<ToxicSpec, ProxyError> {
        self.registry
            .update_toxic(name, toxic, attributes, toxicity)
            .await
    }

    /// Removes a toxic; data flows normally again on every connection.
    pub async fn remove_toxic(&self, name: &str, toxic: &str) -> Result<(), ProxyError> {
        self.registry.remove_toxic(name, toxic).await
    }

    pub async fn proxy(&self, name: &str) -> Result<ProxyInfo, ProxyError> {
        self.registry.get(name).await
    }

    pub async fn proxies(&self) -> BTreeMap<String, ProxyInfo> {
        self.registry.list().await
    }

    /// Removes a proxy: its listener and connections close.
    pub async fn remove(&self, name: &str) -> Result<(), ProxyError> {
        self.registry.remove(name).await
    }

    /// Every proxy enabled and without toxics. A proxy that cannot listen again (its port taken
    /// meanwhile) is logged as an error and stays disabled; [`FaultProxy::reset_proxy`] says why.
    pub async fn reset(&self) {
        if let Err(error) = self.registry.reset(None).await {
            tracing::error!(%error, "fault proxy reset");
        }
    }

    /// One proxy enabled and without toxics.
    pub async fn reset_proxy(&self, name: &str) -> Result<(), ProxyError> {
        self.registry.reset(Some(name)).await
    }

    /// Like dropping it, but returns only once every listener and connection is closed
    /// (dropping closes them as soon as the runtime next runs their tasks).
    pub async fn shutdown(self) {
        self.registry.stop_all().await;
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        // The API server and every accept loop watch this; accept loops close their connections.
        self.shutdown.send_replace(true);
    }
}
