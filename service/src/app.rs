//! The application for one stage: its routes, its dependencies, and the layers every stage
//! shares (request ids, the request span every log line lands in).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::IntoResponse;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnRequest, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::auth::AuthClient;
use crate::db::Database;
use crate::error::ServiceError;
use crate::{Config, Stage, request_id, stages, upload};

/// What the handlers share: the auth client, the pool, and the cookie name the helpers use.
#[derive(Debug, Clone)]
pub struct AppState {
    pub(crate) auth: AuthClient,
    pub(crate) db: Database,
    pub(crate) cookie_name: Arc<str>,
}

/// Builds the service for `stage`. The pool connects lazily, so this succeeds while the
/// database is down (requests then get 503, or the stage's own answer).
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let config = service::Config::new("http://127.0.0.1:9999".parse()?, "anon", "postgres://authenticator@127.0.0.1/postgres");
/// let router = service::app(&config, service::Stage::Reference).await?;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// service::serve(listener, router, std::future::pending()).await?;
/// # Ok(()) }
/// ```
pub async fn app(config: &Config, stage: Stage) -> Result<Router, ServiceError> {
    let state = AppState {
        auth: AuthClient::verifying(config, stage.verification())?,
        db: Database::connect_lazy(config).map_err(ServiceError::DatabaseUrl)?,
        cookie_name: config.auth_cookie_name().into(),
    };
    Ok(with_shared_layers(
        stages::router(stage).with_state(state),
        stage,
        config.body_timeout,
    ))
}

/// Request ids (honouring an incoming `x-request-id`), one span per request carrying it, and
/// the whole body read within `body_timeout` before any stage sees the request.
fn with_shared_layers(router: Router, stage: Stage, body_timeout: Duration) -> Router {
    let trace = TraceLayer::new_for_http()
        .make_span_with(move |request: &Request| {
            tracing::info_span!(
                "request",
                request_id = %request_id::header_value(request),
                stage = %stage,
                method = %request.method(),
                path = %request.uri().path(),
            )
        })
        .on_request(DefaultOnRequest::new().level(Level::INFO))
        .on_response(DefaultOnResponse::new().level(Level::INFO));
    router.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .layer(trace)
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(middleware::from_fn(request_id::scope))
            .layer(middleware::from_fn(move |request: Request, next: Next| {
                upload::read_whole_body(request, next, body_timeout)
            }))
            // Inside the request-id scope, so a panic's 500 still quotes the id.
            .layer(CatchPanicLayer::custom(|_| {
                ServiceError::Internal("the handler panicked".into()).into_response()
            })),
    )
}

/// What one client may hold of the service: Go's bounds on time (a head within 2 s of its
/// first byte), and the head size it always had, hyper's ~408 KiB read buffer (a genuine token
/// with 64 KiB of claims still reaches the credential checks), in at most hyper's 100 lines.
pub const LIMITS: serving::Limits = serving::Limits::go_net_http()
    .with_max_head_bytes(8192 + 4096 * 100)
    .with_max_headers(100);

/// Serves `router` on `listener` within [`LIMITS`] until `shutdown` completes, then drains open
/// requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serving::serve(listener, router, LIMITS, shutdown).await
}
