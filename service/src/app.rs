//! The application for one stage: its routes, its dependencies, and the layers every stage
//! shares (request ids, the request span every log line lands in).

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::middleware;
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
        auth: match stage {
            Stage::ReferenceLocal => AuthClient::local(config)?,
            _ => AuthClient::new(config).map_err(ServiceError::HttpClient)?,
        },
        db: Database::connect_lazy(config).map_err(ServiceError::DatabaseUrl)?,
        cookie_name: config.auth_cookie_name().into(),
    };
    Ok(with_shared_layers(
        stages::router(stage).with_state(state),
        stage,
    ))
}

/// Request ids (honouring an incoming `x-request-id`) and one span per request carrying it.
fn with_shared_layers(router: Router, stage: Stage) -> Router {
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
            .layer(middleware::from_fn(upload::read_whole_body))
            // Inside the request-id scope, so a panic's 500 still quotes the id.
            .layer(CatchPanicLayer::custom(|_| {
                ServiceError::Internal("the handler panicked".into()).into_response()
            })),
    )
}

/// Serves `router` on `listener` until `shutdown` completes, then drains open requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}
