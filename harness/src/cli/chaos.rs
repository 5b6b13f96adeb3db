//! `harness chaos`: boots a stack, runs concurrent clients under a fixed fault schedule, and
//! prints the counts and the invariants, as a table or JSON. Exit 0 when the invariants hold,
//! 1 when one is violated, 2 when the run itself could not be done.

use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use harness::chaos::{self, Options};

/// Bounds that keep a mistyped flag from loading the machine for an hour.
const MAX_DURATION: Duration = Duration::from_secs(300);
const MAX_CLIENTS: usize = 64;

#[derive(Debug, Args)]
pub(crate) struct ChaosArgs {
    /// Concurrent clients, each signed up as its own user.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// How long the clients run, e.g. `10s`, `4s` (at most 300s); the faults are placed at
    /// fixed fractions of it.
    #[arg(long, default_value = "10s", value_parser = service::parse_duration)]
    duration: Duration,
    #[arg(long, value_enum, default_value = "table")]
    output: super::ReportFormat,
    #[command(flatten)]
    provider: super::provider::ProviderArgs,
    #[command(flatten)]
    project: super::project::ProjectArgs,
}

pub(crate) async fn run(args: ChaosArgs) -> anyhow::Result<bool> {
    if args.duration > MAX_DURATION || args.duration < Duration::from_secs(1) {
        bail!("--duration must be between 1s and {MAX_DURATION:?}");
    }
    if args.clients == 0 || args.clients > MAX_CLIENTS {
        bail!("--clients must be between 1 and {MAX_CLIENTS}");
    }
    // The load is the reference stage's POST /api/session/create counted in public.sessions;
    // a project's schema and services would be judged by what they are not.
    if let Some(project) = args.project.load()? {
        bail!(
            "harness chaos loads the reference stage and counts public.sessions; it does not \
             drive a project's services yet ({}): break the project's dependencies with fault \
             scenarios under `harness run` instead, or run chaos outside the project",
            project.manifest.display()
        );
    }
    let options = Options {
        clients: args.clients,
        duration: args.duration,
        ..Options::default()
    };
    let progress = |text: &str| eprintln!("chaos: {text}");
    progress("booting the stack");
    let stack = args.provider.start().await?;
    let outcome = chaos::run(&stack, &options, &progress).await;
    stack.stop().await.context("stopping the stack")?;
    let report = outcome.context("running the chaos load")?;
    let text = args.output.render(&report, chaos::render::render)?;
    super::print(&text)?;
    Ok(report.holds)
}
