//! `harness chaos`: boots a stack (and a project's services), runs concurrent clients under a
//! fixed fault schedule, and prints the counts and the invariants, as a table or JSON. Exit 0
//! when the invariants hold, 1 when one is violated, 2 when the run itself could not be done.

use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use harness::chaos::{self, Options, Target};
use harness::project::Project;

use super::project::Session;

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
    let project = args.project.load()?;
    let request = match &project {
        None => None,
        Some(project) => Some(project.chaos.clone().with_context(|| {
            format!(
                "{} has no [chaos] table: say what the clients send to the service \
                 [invariants] judges (`{}`), e.g.\n\n[chaos]\nrequest = \"POST \
                 /api/session/create\"",
                project.manifest.display(),
                project.invariants.stage
            )
        })?),
    };
    let progress = |text: &str| eprintln!("chaos: {text}");
    progress("booting the stack");
    let session =
        Session::start(args.provider.builder(), project.as_ref(), false, &progress).await?;
    let mut options = Options {
        clients: args.clients,
        duration: args.duration,
        ..Options::default()
    };
    if let (Some(project), Some(request)) = (&project, request) {
        options.target = Some(project_target(project, &session, request)?);
    }
    let outcome = chaos::run(session.stack(), &options, &progress).await;
    session.stop().await?;
    let report = outcome.context("running the chaos load")?;
    let text = args.output.render(&report, chaos::render::render)?;
    super::print(&text)?;
    Ok(report.holds)
}

/// The project's `[chaos]` request to the stage `[invariants]` judges, with its writes and
/// budget.
fn project_target(
    project: &Project,
    session: &Session,
    request: chaos::Request,
) -> anyhow::Result<Target> {
    let spec = &project.invariants;
    let stack = session.stack();
    let base_url = match service::Stage::ALL.iter().find(|s| s.name() == spec.stage) {
        Some(stage) => stack.stages().url(*stage).to_string(),
        None => session
            .services()
            .and_then(|services| {
                services
                    .urls()
                    .into_iter()
                    .find(|(name, _)| *name == spec.stage)
            })
            .map(|(_, url)| url)
            .with_context(|| {
                format!(
                    "service `{}` serves no URL (give it a `port` in harness.toml): harness chaos \
                     sends HTTP requests to it",
                    spec.stage
                )
            })?,
    };
    Ok(Target {
        stage: spec.stage.clone(),
        base_url,
        request,
        writes: spec.writes.clone(),
        timeouts: spec.budget.timeouts(Some(stack.service_timeouts())),
    })
}
