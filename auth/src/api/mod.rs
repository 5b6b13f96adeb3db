//! GoTrue's HTTP surface, mounted at the root as in the image: one module per endpoint group.
//!
//! The routing follows GoTrue's chi router, odd corners included: `/signup`, `/user` and
//! `/admin/users[/{id}]` also answer with a trailing slash; a method a path does not have is an
//! empty 405 with `Allow` (chi's), HEAD included (chi does not map HEAD to GET); and under
//! `/user` and `/admin` the caller is authenticated before the method or path is looked at, as
//! GoTrue's subrouter middleware does, so an anonymous probe learns nothing but 401.

pub mod admin;
pub mod ban;
pub mod body;
pub mod extract;
pub mod go_quote;
pub mod health;
pub mod input;
pub mod logout;
pub mod pagination;
pub mod query;
pub mod responses;
pub mod signup;
pub mod token;
pub mod user;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, any, get, post};

use crate::config::Config;
use crate::error::{self, ApiError};
use extract::{Admin, CurrentUser, UserId};

/// Shared by every handler: the configuration and the pool (connected as supabase_auth_admin).
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub pool: pgpool::Pool,
}

/// GoTrue's cap on request bodies.
pub const BODY_LIMIT: usize = 1 << 20;

pub fn router(state: AppState) -> Router {
    let signup = post(signup::signup);
    let user = get(user::get_user)
        .put(user::update_user)
        .head(user_then_not_allowed)
        .fallback(user_then_not_allowed);
    let users = get(admin::list_users)
        .post(admin::create_user)
        .head(admin_then_not_allowed)
        .fallback(admin_then_not_allowed);
    let one_user = get(admin::get_user)
        .put(admin::update_user)
        .delete(admin::delete_user)
        .head(admin_user_then_not_allowed)
        .fallback(admin_user_then_not_allowed);
    Router::new()
        .route("/health", get_only(get(health::health)))
        .route("/settings", get_only(get(health::settings)))
        .route("/.well-known/jwks.json", get_only(get(health::jwks)))
        .route("/signup", signup.clone())
        .route("/signup/", signup)
        .route("/token", post(token::token))
        .route("/logout", post(logout::logout))
        .route("/user", user.clone())
        .route("/user/", user)
        .route("/user/{*rest}", any(user_then_not_found))
        .route("/admin/users", users.clone())
        .route("/admin/users/", users)
        .route("/admin/users/{id}", one_user.clone())
        .route("/admin/users/{id}/", one_user)
        .route("/admin/users/{id}/{*rest}", any(admin_user_then_not_found))
        .route("/admin", any(admin_then_not_found))
        .route("/admin/{*rest}", any(admin_then_not_found))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        // Inside the version layer, so a panic's 500 gets the shape the client asked for.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            error::panic_response,
        ))
        .layer(axum::middleware::from_fn(error::api_version))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// A GET route whose HEAD is chi's 405, not axum's body-less GET.
fn get_only(route: MethodRouter<AppState>) -> MethodRouter<AppState> {
    route.head(|| async { method_not_allowed("GET") })
}

/// chi's answer for a known path without the method: empty, with the methods it has.
fn method_not_allowed(allow: &'static str) -> Response {
    (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, allow)]).into_response()
}

async fn user_then_not_allowed(_: CurrentUser) -> Response {
    method_not_allowed("GET, PUT")
}

async fn user_then_not_found(_: CurrentUser) -> Response {
    not_found().await.into_response()
}

async fn admin_then_not_allowed(_: Admin) -> Response {
    method_not_allowed("GET, POST")
}

async fn admin_then_not_found(_: Admin) -> Response {
    not_found().await.into_response()
}

/// GoTrue's `loadUser` runs before the method is matched: a bad or unknown id is its 404.
async fn admin_user_then_not_allowed(
    State(state): State<AppState>,
    _: Admin,
    UserId(id): UserId,
) -> Result<Response, ApiError> {
    admin::load(&state, id).await?;
    Ok(method_not_allowed("GET, PUT, DELETE"))
}

async fn admin_user_then_not_found(
    State(state): State<AppState>,
    _: Admin,
    UserId(id): UserId,
) -> Result<Response, ApiError> {
    admin::load(&state, id).await?;
    Ok(not_found().await.into_response())
}

/// Go's http.NotFound, which GoTrue's router uses for unknown paths.
async fn not_found() -> impl IntoResponse {
    (
        StatusCode::NOT_FOUND,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        "404 page not found\n",
    )
}
