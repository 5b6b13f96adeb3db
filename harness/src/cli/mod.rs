//! Argument parsing and dispatch for the `harness` binary. Logs (RUST_LOG) go to stderr; stdout
//! carries only what a command was asked to print, so it can be piped or sourced.

mod bench;
mod chaos;
mod init;
mod project;
mod provider;
mod replay;
mod run;
mod scenarios;
mod up;

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

/// The hidden subcommands that run the auth server and the data API (see `main`).
pub(crate) const AUTH_SERVER: &str = "auth-server";
pub(crate) const REST_SERVER: &str = "rest-server";

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
    /// Boot the stack, replay scenarios (default: all) and compare with their snapshots.
    Run(run::RunArgs),
    /// List the scenarios and their stories.
    List(scenarios::ListArgs),
    /// Replay one scenario and print every exchange and the server's log lines.
    Show(scenarios::ShowArgs),
    /// Boot PostgreSQL, the auth server, the data API, the gateway and the service's stages (and a
    /// project's services), and keep them up until Ctrl-C.
    Up(up::UpArgs),
    /// Make a folder a harness project: a commented harness.toml and a first scenario (never
    /// overwriting a file).
    Init(init::InitArgs),
    /// Measure boot, suite and service throughput against pgbench and the auth server.
    Bench(bench::BenchArgs),
    /// Many clients create sessions while faults hit the database and the auth server; checks
    /// that no acknowledged write was lost and every failure told its cause, and prints the counts.
    Chaos(chaos::ChaosArgs),
    /// Remove the containers and networks of harness runs that crashed (by their label).
    Down(provider::DownArgs),
    /// Run the GoTrue-compatible auth server from GOTRUE_* env vars (what a stack spawns).
    #[command(name = AUTH_SERVER, hide = true)]
    AuthServer,
    /// Run the PostgREST-compatible data API from PGRST_* env vars (what a stack spawns).
    #[command(name = REST_SERVER, hide = true)]
    RestServer,
}

/// Exit status 0: everything passed; 1: a scenario failed; 2: the harness could not do its job.
pub(crate) fn run() -> ExitCode {
    let cli = Cli::parse();
    // The service's log lines go into the snapshots; stderr shows them only when asked.
    let default_filter = match cli.command {
        Command::Up(_) => "warn,harness=info,service=info",
        // The service's pool warns of every connection the faults break: expected here.
        Command::Chaos(_) => "warn,service=off,tower_http=off,sqlx=error",
        _ => "warn,service=off,tower_http=off",
    };
    harness::logs::install("RUST_LOG", default_filter);
    let outcome = match cli.command {
        Command::Run(args) => block_on(interruptible(run::run(args))),
        Command::Show(args) => block_on(interruptible(scenarios::show(args))),
        Command::Init(args) => init::run(args).map(|()| true),
        Command::List(args) => scenarios::list(args).map(|()| true),
        Command::Up(args) => up::run(args).map(|()| true),
        Command::Bench(args) => block_on(bench::run(args)),
        Command::Chaos(args) => block_on(interruptible(chaos::run(args))),
        Command::Down(args) => block_on(provider::down(args)),
        Command::AuthServer => return auth::main_from_env(),
        Command::RestServer => return rest::main_from_env(),
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) if error.is::<Interrupted>() => {
            eprintln!("harness: {error}");
            ExitCode::from(130)
        }
        Err(error) => {
            eprintln!("harness: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// SIGINT or SIGTERM arrived: the job was dropped, which stopped its services and its stack.
#[derive(Debug, thiserror::Error)]
#[error("interrupted by {0}: the services and the stack were stopped")]
struct Interrupted(&'static str);

/// Runs `job` until it ends or SIGINT/SIGTERM arrives. On a signal the job is dropped where it
/// stands: every service and stack it holds stops in its `Drop` (the services' process groups,
/// then the servers and the stack's directory), so Ctrl-C leaves nothing running or on disk.
async fn interruptible<T>(job: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("listening for SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    tokio::select! {
        outcome = job => outcome,
        _ = interrupt.recv() => Err(Interrupted("SIGINT").into()),
        _ = terminate.recv() => Err(Interrupted("SIGTERM").into()),
    }
}

fn block_on<T>(job: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(job)
}

/// How a report command prints: a table for people, or JSON for programs.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum ReportFormat {
    Table,
    Json,
}

impl ReportFormat {
    /// The report as a table (`table` renders it) or as pretty JSON, ending with a newline.
    fn render<T: serde::Serialize>(
        self,
        report: &T,
        table: impl FnOnce(&T) -> String,
    ) -> anyhow::Result<String> {
        Ok(match self {
            ReportFormat::Table => table(report),
            ReportFormat::Json => {
                let mut json = serde_json::to_string_pretty(report).context("serializing")?;
                json.push('\n');
                json
            }
        })
    }
}

/// Writes a command's output to stdout, without colour where stdout is not a terminal. A reader
/// that went away (`harness list | head`) is not an error.
fn print(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = anstream::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(error).context("writing to stdout")
        }
        _ => Ok(()),
    }
}
