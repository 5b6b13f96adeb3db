//! `harness run`: the main job. Boots the stack (with a project's schema and services when there
//! is a harness.toml), replays scenarios, compares every replay with its reviewed snapshot,
//! prints a table and exits non-zero on any failure.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use harness::report::snapshot::SnapshotStore;
use harness::report::{ScenarioOutcome, junit, terminal};
use harness::run::{Runner, Targets};
use harness::scenario::{Scenario, Target};
use harness::signing::{FixedKeys, KeyProfile};
use harness::suite::{self, Placement, Shard};
use std::sync::Arc;

use super::project::{ProjectArgs, Session, snapshots_dir, stage_names};
use super::replay::Suite;
use super::scenarios::load_all;

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Scenario files or directories (default: the project's scenarios, else scenarios/).
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
    /// Only the scenarios that send a request to this stage (a built-in one or a service).
    #[arg(long)]
    stage: Option<String>,
    /// Replay the reference-stage steps against this running service instead. It must use the
    /// stack whose values are in the environment (DB_URL, AUTH_URL, JWT_SECRET, ANON_KEY,
    /// SERVICE_ROLE_KEY, as `harness up --output env` prints them) and the key profile --keys
    /// names. Snapshots are not compared: another service answers in its own words; the
    /// scenarios' expectations are checked. Scenarios that rotate keys fail: that stack's keys
    /// are not the harness's to rotate.
    #[arg(long, value_name = "URL")]
    target: Option<String>,
    /// How many scenarios replay at once (default: twice the cores, 2 to 8; fault scenarios
    /// mostly wait). The output is the same for any number.
    #[arg(long, short = 'j', value_parser = clap::value_parser!(u16).range(1..=64))]
    jobs: Option<u16>,
    /// Only this shard of the scenarios, as `cargo nextest run --partition` splits tests:
    /// hash:K/N (by the scenario's name; K/N alone is hash) or count:K/N (by its place).
    /// Default: HARNESS_SHARD, else the CI's own variables (GitLab CI_NODE_INDEX/CI_NODE_TOTAL,
    /// Buildkite, CircleCI, Azure Pipelines), else every scenario.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    shard: Option<Shard>,
    /// Where the snapshots are (default: the project's, else snapshots/).
    #[arg(long)]
    snapshots: Option<PathBuf>,
    #[command(flatten)]
    provider: super::provider::ProviderArgs,
    #[command(flatten)]
    project: ProjectArgs,
}

pub(crate) async fn run(args: RunArgs) -> anyhow::Result<bool> {
    let project = args.project.load()?;
    let project = project.as_ref();
    if project.is_some() && args.target.is_some() {
        bail!(
            "--target replays the reference stage against a service you started yourself; in a \
             project (harness.toml) the harness starts its services: leave out --target"
        );
    }
    let mut scenarios = load_all(&args.paths, project)?;
    if let Some(filter) = &args.filter {
        scenarios.retain(|scenario| scenario.name.contains(filter.as_str()));
    }
    if let Some(stage) = &args.stage {
        let known = stage_names(project);
        if !known.contains(stage) {
            bail!(
                "unknown stage `{stage}`: expected one of {}",
                known.join(", ")
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
    // The flag, else the CI's variables; read before anything boots, so a bad one costs nothing.
    let shard = match args.shard {
        Some(shard) => Some(shard),
        None => Shard::from_env(&|name| std::env::var(name).ok())
            .context("reading the shard from the CI's variables")?,
    };

    if let Some(shard) = &shard {
        scenarios = shard.select(scenarios, |scenario| scenario.name.as_str());
        if scenarios.is_empty() {
            eprintln!("harness: shard {shard} has no scenarios of this run");
        }
    }

    let progress = Progress::new();
    let say = |text: &str| progress.say(text);
    let note = |text: &str| progress.note(text);
    let shared = args.target.is_none()
        && scenarios.iter().any(|scenario| {
            suite::placement(scenario, args.provider.key_profile().name()) == Placement::Shared
        });
    let (session, runner) = match &args.target {
        Some(url) => {
            let keys = args.provider.key_profile();
            (None, Some(Runner::new(targets_from_env(url, &keys)?)))
        }
        None if shared => {
            progress.say("booting the stack");
            let session = Session::start(args.provider.builder(), project, false, &say).await?;
            let runner = session.runner();
            (Some(session), Some(runner))
        }
        None => (None, None),
    };
    let store = SnapshotStore::new(snapshots_dir(project, args.snapshots.as_deref()));
    let suite = Suite {
        provider: &args.provider,
        project,
        store: &store,
        update: args.update,
        external: args.target.is_some(),
        say: &say,
        note: &note,
        pool: Default::default(),
    };
    let serial = session
        .as_ref()
        .is_some_and(|session| session.services().is_some());
    let jobs = args.jobs.map_or_else(suite::default_jobs, usize::from);
    let outcomes = suite
        .replay(&scenarios, runner.as_ref(), serial, jobs)
        .await;
    progress.clear();
    drop(runner);
    let pooled = suite.stop().await;
    if let Some(session) = session {
        session.stop().await?;
    }
    pooled?;
    let outcomes = outcomes?;

    let mut summary = terminal::summary(&outcomes);
    if args.target.is_some() {
        summary.push_str("(--target: expectations checked, snapshots not compared)\n");
    }
    super::print(&summary)?;
    if let Some(path) = &args.junit {
        write_file(path, &junit::render_shard(&outcomes, shard.as_ref()))?;
    }
    Ok(outcomes.iter().all(ScenarioOutcome::passed))
}

/// Keeps a scenario's reference-stage and non-stage steps; `None` if no reference step is left.
fn reference_steps_only(mut scenario: Scenario) -> Option<Scenario> {
    scenario.steps.retain(|step| match &step.request {
        Some(request) => match &request.target {
            Target::Stage(stage) => stage == service::Stage::Reference.name(),
            Target::Auth | Target::Api | Target::Url(_) => true,
        },
        None => true,
    });
    scenario
        .stages()
        .contains(&service::Stage::Reference.name())
        .then_some(scenario)
}

fn targets_from_env(url: &str, profile: &KeyProfile) -> anyhow::Result<Targets> {
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
        api_url: var("API_URL")?,
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
        // Known to mint tokens with; the harness cannot rotate another stack's keys.
        keys: Arc::new(FixedKeys(profile.load(now()).with_context(|| {
            format!("loading the `{profile}` key profile (--keys or HARNESS_KEYS)")
        })?)),
    })
}

fn parse_shard(text: &str) -> Result<Shard, String> {
    Shard::parse(text).map_err(|error| error.to_string())
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}

fn write_file(path: &Path, contents: &str) -> anyhow::Result<()> {
    std::fs::write(path, contents).with_context(|| format!("writing {}", path.display()))
}

/// One line on stderr that rewrites itself on a terminal, and plain lines in CI or a pipe.
struct Progress {
    live: bool,
}

impl Progress {
    fn new() -> Progress {
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
