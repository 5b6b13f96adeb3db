//! Argument parsing and dispatch for the `harness` binary. Logs (RUST_LOG) go to stderr; stdout
//! carries only what a command was asked to print, so it can be piped or sourced.

mod up;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// The hidden subcommand that runs the auth server (see `main`).
pub(crate) const AUTH_SERVER: &str = "auth-server";

#[derive(Debug, Parser)]
#[command(
    name = "harness",
    version,
    about = "Contract tests and fault injection for Supabase-backed APIs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Boot PostgreSQL and the auth server locally and keep them up until Ctrl-C.
    Up(up::UpArgs),
    /// Run the GoTrue-compatible auth server from GOTRUE_* env vars (what a stack spawns).
    #[command(name = AUTH_SERVER, hide = true)]
    AuthServer,
}

pub(crate) fn run() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("warn,harness=info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let outcome = match cli.command {
        Command::Up(args) => up::run(args),
        Command::AuthServer => return auth::main_from_env(),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("harness: {error:#}");
            ExitCode::FAILURE
        }
    }
}
