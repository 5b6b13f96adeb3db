//! A GoTrue-compatible auth server: a drop-in for the `supabase/gotrue` image.
//!
//! It speaks GoTrue's HTTP API (statuses, error codes and messages byte for byte), owns the
//! `auth` schema with GoTrue's table and function definitions, and reads GoTrue's environment
//! variables, so a harness can boot it natively where the image would otherwise run.
//!
//! API the harness relies on:
//! - [`MIGRATIONS`]: the embedded schema, in order; the harness hashes it for its template cache.
//! - [`migrate`]: applies what is missing, as the connected role (`supabase_auth_admin`).
//! - [`main_from_env`]: what the `auth` binary runs: read GoTrue's env vars, migrate, serve.
//! - [`Config`] and [`serve`]: the same server in-process, on a listener the caller binds.

pub mod api;
pub mod bearer;
pub mod config;
pub mod db;
pub mod error;
pub mod jwk;
pub mod jwt;
pub mod jwt_keys;
pub mod migrations;
pub mod password;
pub mod refresh;
pub mod server;
mod signature;
pub mod signer;
mod telemetry;
pub mod tokens;

pub use config::{Config, ConfigError};
pub use migrations::{MIGRATIONS, MigrateError, Migration, migrate};
pub use server::{serve, shutdown_signal};

use std::process::ExitCode;

/// Runs the server the way the image's `auth` binary does (migrate, then serve until SIGINT or
/// SIGTERM); returns the process exit code.
pub fn main_from_env() -> ExitCode {
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("auth: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&config.log_level, &config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("auth: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    use anyhow::Context;
    migrate(&config.database_url).await?;
    let address = config.listen_address();
    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .with_context(|| format!("cannot listen on {address} (GOTRUE_API_HOST/GOTRUE_API_PORT)"))?;
    serve(config, listener, shutdown_signal()).await
}
