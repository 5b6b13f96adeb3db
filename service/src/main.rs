//! `service`: serves one stage of `POST /api/session/create`, configured with Supabase's usual
//! environment names, logging JSON lines (one span per request, with its id) to stderr.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use service::{Config, Stage};
use url::Url;

#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Project URL; the auth server is at `{SUPABASE_URL}/auth/v1`.
    #[arg(long, env = "SUPABASE_URL", required_unless_present = "auth_url")]
    supabase_url: Option<Url>,
    /// The auth server's root directly (overrides SUPABASE_URL for auth).
    #[arg(long, env = "SUPABASE_AUTH_URL")]
    auth_url: Option<Url>,
    #[arg(long, env = "SUPABASE_ANON_KEY", hide_env_values = true)]
    anon_key: String,
    /// Connects as `authenticator`.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,
    /// The HS256 secret; needed by the stages that verify tokens themselves (reference-local,
    /// secret-only, hand-rolled-jwks).
    #[arg(long, env = "SUPABASE_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// route-missing, cookie-first, anon-client, debrief-final, reference, reference-local,
    /// reference-claims, secret-only or hand-rolled-jwks.
    #[arg(long, default_value = "reference")]
    stage: Stage,
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// e.g. 2s, 500ms
    #[arg(long, default_value = "2s", value_parser = service::parse_duration)]
    auth_timeout: Duration,
    #[arg(long, default_value = "2s", value_parser = service::parse_duration)]
    db_timeout: Duration,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    let args = Args::parse();
    let auth_url = match (args.auth_url, args.supabase_url) {
        (Some(auth), _) => auth,
        (None, Some(project)) => Config::auth_url_for_project(&project),
        (None, None) => anyhow::bail!("set SUPABASE_URL or SUPABASE_AUTH_URL"),
    };
    let mut config = Config::new(auth_url, args.anon_key, args.database_url)
        .with_auth_timeout(args.auth_timeout)
        .with_db_timeout(args.db_timeout);
    if let Some(secret) = args.jwt_secret {
        config = config.with_jwt_secret(secret);
    }

    let router = service::app(&config, args.stage)
        .await
        .context("building the service")?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    tracing::info!(
        stage = %args.stage,
        address = %listener.local_addr()?,
        auth = %config.auth_url,
        "listening"
    );
    service::serve(listener, router, shutdown_signal())
        .await
        .context("serving")
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
