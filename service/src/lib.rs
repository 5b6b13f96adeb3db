//! The service under test: `POST /api/session/create`, which creates a chat session row in
//! Supabase as the signed-in user, in stages: the debrief's failures, those of the signing-keys
//! era, and the reference with its two local-verification variants.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use service::{Config, Stage};
//! let config = Config::new("http://127.0.0.1:9999".parse()?, "anon-key", "postgres://authenticator@127.0.0.1/postgres");
//! let router = service::app(&config, Stage::DebriefFinal).await?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! tokio::spawn(service::serve(listener, router, std::future::pending()));
//! # Ok(()) }
//! ```

mod app;
pub mod auth;
mod claims;
mod config;
pub mod cookies;
pub mod db;
mod error;
mod hand_rolled;
pub mod jwks;
mod local;
mod request_id;
mod stages;
mod upload;

pub use app::{LIMITS, app, serve};
pub use auth::Verification;
pub use config::{
    Config, DEFAULT_AUTH_TIMEOUT, DEFAULT_BODY_TIMEOUT, DEFAULT_DB_TIMEOUT, parse_duration,
};
pub use error::{RETRY_AFTER_SECONDS, ServiceError};
pub use jwks::{CacheEpoch, JWKS_TTL};
pub use stages::{ROUTE, Stage, UnknownStage};
