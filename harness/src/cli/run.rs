//! `harness run`: the main job. Boots the stack, replays scenarios, compares every replay with
//! its reviewed snapshot, prints a table and exits non-zero on any failure.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use harness::report::snapshot::{self, Comparison, SnapshotStore};
use harness::report::{ScenarioOutcome, junit, terminal};
use harness::run::{Runner, Targets};
use harness::scenario::{Scenario, Target};

use super::scenarios::load_all;

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Scenario files or directories (default: scenarios/).
    paths: Vec<PathBuf>,
    /// Write a `.snap.new` next to every snapshot that changed, for `cargo insta review`.
    #[arg(long)]
    update: bool,
    /// Also write JUnit XML (one test case per step) to this file.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Only the scenarios whose name contains this text.
    #[arg(long)]
    filter: Option<String>,
    /// Only the scenarios that send a request to this stage.
    #[arg(long)]
    stage: Option<String>,
    /// Replay the reference-stage steps against this running service instead. It must use the
    /// stack whose values are in the environment (DB_URL, AUTH_URL, JWT_SECRET, ANON_KEY,
    /// SERVICE_ROLE_KEY, as `harness up --output env` prints them). Snapshots are not compared:
    /// another service answers in its own words; the scenarios' expectations are checked.
    #[arg(long, value_name = "URL")]
    target: Option<String>,
    /// Where the snapshots are.
    #[arg(long, default_value = "snapshots")]
    snapshots: PathBuf,
    #[command(flatten)]
    provider: super::provider::ProviderArgs,
}

pub(crate) async fn run(args: RunArgs) -> anyhow::Result<bool> {
    let mut scenarios = load_all(&args.paths)?;
    if let Some(filter) = &args.filter {
        scenarios.retain(|scenario| scenario.name.contains(filter.as_str()));
    }
    if let Some(stage) = &args.stage {
        if !service::Stage::ALL
            .iter()
            .any(|known| known.name() == stage)
        {
            bail!(
                "unknown stage `{stage}`: expected one of {}",
                super::scenarios::stage_names().join(", ")
            );
        }
        scenarios.retain(|scenario| scenario.stages().contains(&stage.as_str()));
    }
    if args.target.is_some() {
        scenarios = scenarios
            .into_iter()
            .filter_map(reference_steps_only)
            .collect();
    }
    if scenarios.is_empty() {
        bail!("no scenario matches: nothing to run");
    }

    let progress = Progress::new(scenarios.len());
    let (stack, runner) = match &args.target {
        Some(url) => (None, Runner::new(targets_from_env(url)?)),
        None => {
            progress.say("booting the stack");
            let stack = args.provider.start().await?;
            let runner = Runner::for_stack(&stack);
            (Some(stack), runner)
        }
    };

    let store = SnapshotStore::new(&args.snapshots);
    let mut outcomes = Vec::with_capacity(scenarios.len());
    for (index, scenario) in scenarios.iter().enumerate() {
        progress.say(&format!(
            "[{}/{}] {}",
            index + 1,
            scenarios.len(),
            scenario.name
        ));
        let report = runner.replay(scenario).await;
        // A skipped scenario has nothing to compare.
        let snapshot = if args.target.is_some() || report.skipped.is_some() {
            Comparison::Matches
        } else {
            let text = snapshot::render(&report);
            let comparison = store.compare(&scenario.name, &text).with_context(|| {
                format!(
                    "reading the snapshot {}",
                    store.path(&scenario.name).display()
                )
            })?;
            if args.update && comparison != Comparison::Matches {
                let pending = store.write_pending(&scenario.name, &text)?;
                progress.note(&format!("wrote {} for review", pending.display()));
            }
            comparison
        };
        outcomes.push(ScenarioOutcome { report, snapshot });
    }
    progress.clear();
    if let Some(stack) = stack {
        stack.stop().await.context("stopping the stack")?;
    }

    let mut summary = terminal::summary(&outcomes);
    if args.target.is_some() {
        summary.push_str("(--target: expectations checked, snapshots not compared)\n");
    }
    super::print(&summary)?;
    if let Some(path) = &args.junit {
        write_file(path, &junit::render(&outcomes))?;
    }
    Ok(outcomes.iter().all(ScenarioOutcome::passed))
}

/// Keeps a scenario's reference-stage and non-stage steps; `None` if no reference step is left.
fn reference_steps_only(mut scenario: Scenario) -> Option<Scenario> {
    scenario.steps.retain(|step| match &step.request {
        Some(request) => match &request.target {
            Target::Stage(stage) => stage == service::Stage::Reference.name(),
            Target::Auth | Target::Url(_) => true,
        },
        None => true,
    });
    scenario
        .stages()
        .contains(&service::Stage::Reference.name())
        .then_some(scenario)
}

fn targets_from_env(url: &str) -> anyhow::Result<Targets> {
    let var = |name: &str| {
        std::env::var(name).with_context(|| {
            format!(
                "--target needs the stack the service at {url} uses, and {name} is not set: start \
                 `harness up --output env` in another terminal, configure the service with its \
                 values and export them here"
            )
        })
    };
    Ok(Targets {
        auth_url: var("AUTH_URL")?,
        db_url: var("DB_URL")?,
        jwt_secret: var("JWT_SECRET")?,
        anon_key: var("ANON_KEY")?,
        service_role_key: var("SERVICE_ROLE_KEY")?,
        stages: vec![(
            service::Stage::Reference.name().to_owned(),
            url.trim_end_matches('/').to_owned(),
        )],
        // A service the harness does not front: its dependencies cannot be broken from here.
        faults: None,
        service_timeouts: None,
        provider: "external".to_owned(),
    })
}

fn write_file(path: &Path, contents: &str) -> anyhow::Result<()> {
    std::fs::write(path, contents).with_context(|| format!("writing {}", path.display()))
}

/// One line on stderr that rewrites itself on a terminal, and plain lines in CI or a pipe.
struct Progress {
    live: bool,
}

impl Progress {
    fn new(_total: usize) -> Progress {
        let live = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        Progress { live }
    }

    fn say(&self, text: &str) {
        let mut stderr = std::io::stderr().lock();
        if self.live {
            let _ = write!(stderr, "\r\x1b[2K{text}");
            let _ = stderr.flush();
        } else {
            let _ = writeln!(stderr, "{text}");
        }
    }

    fn note(&self, text: &str) {
        self.clear();
        eprintln!("{text}");
    }

    fn clear(&self) {
        if self.live {
            eprint!("\r\x1b[2K");
        }
    }
}
