//! The API gateway: one project URL in front of the auth server and the data API, as Supabase's
//! Kong gives every app (`/auth/v1/*` → GoTrue, `/rest/v1/*` → PostgREST).
//!
//! It follows the self-hosted stack's `kong.yml` (Kong 2.8.1) for what a client can see: the
//! routes and `strip_path` ([`routes`]), key-auth with Kong's exact 401s, the ACL and the
//! `Authorization` transformer that swaps `sb_publishable_…`/`sb_secret_…` for JWTs
//! ([`key_auth`]), CORS preflights without a key ([`cors`]), the headers Kong adds, strips and
//! rewrites, and its 502/504 when an upstream fails ([`forward`], [`errors`]). A path no route
//! matches is Kong's own 404 rather than the self-hosted catch-all's dashboard 401.
//!
//! It runs in-process (like the fault proxy), on its own port, in both providers: the upstreams
//! are whatever addresses the stack gives it, normally the fault proxy's `auth` and `rest`.
//!
//! ```no_run
//! # async fn demo(auth: std::net::SocketAddr, rest: std::net::SocketAddr) -> std::io::Result<()> {
//! use harness::gateway::{Gateway, GatewayConfig, GatewayKeys};
//! let keys = GatewayKeys { anon: "…".into(), service_role: "…".into(), publishable: None, secret: None };
//! let gateway = Gateway::start(GatewayConfig::new(auth, rest, keys)).await?;
//! println!("API_URL={}", gateway.url());
//! # Ok(()) }
//! ```

pub mod cors;
pub mod errors;
pub mod forward;
pub mod key_auth;
pub mod routes;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{Request, Response, header};
use tokio::task::JoinHandle;

pub use errors::GatewayError;
pub use key_auth::GatewayKeys;
pub use routes::Service;

use forward::{Outbound, Upstream};

/// Kong's default connect, read and write timeouts for a service.
pub const KONG_UPSTREAM_TIMEOUT: Duration = Duration::from_secs(60);

/// The largest request body the gateway buffers before forwarding; larger ones are 413.
pub const MAX_BODY: usize = 32 << 20;

/// What one client may hold of the gateway, as Kong's nginx bounds it: a request head within
/// `client_header_timeout` (60 s) and at most `large_client_header_buffers` (4 × 8 KiB),
/// kept-alive connections for `keepalive_timeout` (60 s). nginx counts its buffers per line;
/// hyper bounds the whole head, so the whole head gets the 32 KiB.
pub const LIMITS: serving::Limits = serving::Limits::go_net_http()
    .with_head_timeout(Duration::from_secs(60))
    .with_idle_timeout(Duration::from_secs(60))
    .with_max_head_bytes(4 * 8 * 1024);

/// Where the gateway sends each service's requests, and with which keys.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub auth: SocketAddr,
    pub rest: SocketAddr,
    pub keys: GatewayKeys,
    /// Per upstream connect, read and write; Kong's 60 s by default.
    pub upstream_timeout: Duration,
    /// What one client may hold; [`LIMITS`] by default.
    pub limits: serving::Limits,
}

impl GatewayConfig {
    pub fn new(auth: SocketAddr, rest: SocketAddr, keys: GatewayKeys) -> GatewayConfig {
        GatewayConfig {
            auth,
            rest,
            keys,
            upstream_timeout: KONG_UPSTREAM_TIMEOUT,
            limits: LIMITS,
        }
    }

    /// Other connection bounds (tests shrink nginx's 60 s to wait less).
    pub fn with_limits(mut self, limits: serving::Limits) -> GatewayConfig {
        self.limits = limits;
        self
    }

    /// A shorter upstream timeout, for fault scenarios that wait it out.
    pub fn with_upstream_timeout(mut self, timeout: Duration) -> GatewayConfig {
        self.upstream_timeout = timeout;
        self
    }
}

struct Shared {
    config: GatewayConfig,
    upstream: Upstream,
    port: u16,
}

/// A running gateway on 127.0.0.1; dropping it stops serving.
#[derive(Debug)]
pub struct Gateway {
    address: SocketAddr,
    server: JoinHandle<()>,
}

impl Gateway {
    /// Binds a free port on 127.0.0.1 and serves until dropped.
    pub async fn start(config: GatewayConfig) -> std::io::Result<Gateway> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        Gateway::start_on(listener, config).await
    }

    /// Serves on `listener` until dropped (a port taken before the gateway's config was known).
    pub async fn start_on(
        listener: tokio::net::TcpListener,
        config: GatewayConfig,
    ) -> std::io::Result<Gateway> {
        let address = listener.local_addr()?;
        let limits = config.limits;
        let shared = Arc::new(Shared {
            upstream: Upstream::new(config.upstream_timeout, MAX_BODY),
            config,
            port: address.port(),
        });
        let app = axum::Router::new().fallback(handle).with_state(shared);
        let server = tokio::spawn(async move {
            let served = serving::serve(listener, app, limits, std::future::pending()).await;
            if let Err(error) = served {
                tracing::error!(%error, "the gateway stopped serving");
            }
        });
        Ok(Gateway { address, server })
    }

    /// `http://127.0.0.1:PORT`: the project URL (what `createClient` takes).
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    mut request: Request<Body>,
) -> Response<Body> {
    let received = Instant::now();
    let path = request.uri().path().to_owned();
    let Some(matched) = routes::route(&path) else {
        return GatewayError::NoRoute.into_response(request.headers(), received.elapsed());
    };
    if cors::is_preflight(request.method(), request.headers()) {
        return cors::preflight(request.headers(), received.elapsed());
    }
    let query = request.uri().query().map(str::to_owned);
    if matched.route.keyed {
        let keys = &shared.config.keys;
        let who = match keys.authenticate(request.headers(), query.as_deref()) {
            Ok(who) => who,
            Err(error) => {
                let mut response = error.into_response(request.headers(), received.elapsed());
                cors::allow_origin(response.headers_mut());
                return response;
            }
        };
        let headers = request.headers_mut();
        key_auth::consumer_headers(headers, &who);
        let authorization =
            keys.upstream_authorization(headers.get(header::AUTHORIZATION), &who.key);
        headers.remove(header::AUTHORIZATION);
        if let Some(authorization) = authorization {
            headers.insert(header::AUTHORIZATION, authorization);
        }
    }
    let upstream = match matched.route.service {
        Service::Auth => shared.config.auth,
        Service::Rest => shared.config.rest,
    };
    let path_and_query = match &query {
        Some(query) => format!("{}?{query}", matched.upstream_path),
        None => matched.upstream_path.clone(),
    };
    tracing::debug!(
        method = %request.method(),
        path = %path,
        route = matched.route.name,
        upstream = %upstream,
        "gateway"
    );
    let outbound = Outbound {
        upstream,
        path_and_query,
        client,
        gateway_port: shared.port,
        prefix: matched.route.prefix.trim_end_matches('/').to_owned(),
        received,
    };
    // Only what an error's format depends on outlives the forwarded request.
    let mut negotiation = axum::http::HeaderMap::new();
    for name in [header::ACCEPT, header::CONTENT_TYPE] {
        if let Some(value) = request.headers().get(&name) {
            negotiation.insert(name, value.clone());
        }
    }
    let mut response = match shared.upstream.forward(request, outbound).await {
        Ok(response) => response,
        Err(error) => error.into_response(&negotiation, received.elapsed()),
    };
    cors::allow_origin(response.headers_mut());
    response
}
