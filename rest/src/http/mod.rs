//! The data API's HTTP side: one handler for every path (so no framework rejection ever
//! reaches a client), in PostgREST's order: authenticate, route, negotiate, parse, plan,
//! run, respond.

pub mod cors;
mod handler;
mod meta;
pub mod openapi;
mod preference_applied;
pub mod request;
pub mod response;

use std::sync::Arc;

use axum::Router;
use axum::http::HeaderValue;

use crate::state::AppState;

/// The PostgREST version whose wire behaviour this server follows.
pub const POSTGREST_VERSION: &str = "14.5";

/// The largest request body read.
pub const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// The data API's router.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .fallback(handler::handle)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            cors::layer,
        ))
        .layer(axum::middleware::map_response(server_header))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            panic_response,
        ))
        .with_state(state)
}

/// A panic is this server's bug: answered as PostgREST's internal error, not a dropped
/// connection.
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let what = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "a panic".into());
    tracing::error!("request handler panicked: {what}");
    crate::error::ApiError::Internal(what).into_response()
}

async fn server_header(mut response: axum::response::Response) -> axum::response::Response {
    response.headers_mut().insert(
        axum::http::header::SERVER,
        HeaderValue::from_static(concat!("postgrest/", "14.5")),
    );
    response
}
