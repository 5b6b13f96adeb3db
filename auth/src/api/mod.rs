//! GoTrue's HTTP surface, mounted at the root as in the image: one module per endpoint group.

pub mod admin;
pub mod extract;
pub mod health;
pub mod logout;
pub mod responses;
pub mod signup;
pub mod token;
pub mod user;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use sqlx::PgPool;

use crate::config::Config;
use crate::error;

/// Shared by every handler: the configuration and the pool (connected as supabase_auth_admin).
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub pool: PgPool,
}

/// GoTrue's cap on request bodies.
pub const BODY_LIMIT: usize = 1 << 20;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health::health))
        .route("/settings", get(health::settings))
        .route("/.well-known/jwks.json", get(health::jwks))
        .route("/signup", post(signup::signup))
        .route("/token", post(token::token))
        .route("/user", get(user::get_user).put(user::update_user))
        .route("/logout", post(logout::logout))
        .route(
            "/admin/users",
            get(admin::list_users).post(admin::create_user),
        )
        .route(
            "/admin/users/{id}",
            get(admin::get_user)
                .put(admin::update_user)
                .delete(admin::delete_user),
        )
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(error::api_version))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
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
