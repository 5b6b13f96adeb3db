//! `harness bench`: measures boot, suite and throughput figures and prints them beside their
//! limits and targets, as a table or JSON.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use harness::bench::{self, ColdProbe, Options};

use super::scenarios::load_all;

/// Bounds that keep a mistyped flag from loading the machine for an hour.
const MAX_DURATION: Duration = Duration::from_secs(60);
const MAX_RUNS: usize = 50;

#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Scenario files or directories for the suite (default: scenarios/).
    paths: Vec<PathBuf>,
    /// Boot runs: warm runs, and cold runs unless --cold-runs is given (default: 5 warm, 3 cold).
    #[arg(long)]
    runs: Option<usize>,
    /// Cold boot runs (each builds the template in an empty private cache).
    #[arg(long)]
    cold_runs: Option<usize>,
    /// Skip the cold boots.
    #[arg(long)]
    skip_cold: bool,
    /// Load time per measurement and concurrency level, e.g. `5s`, `500ms` (at most 60s).
    #[arg(long, default_value = "5s", value_parser = service::parse_duration)]
    duration: Duration,
    /// Concurrent clients, comma separated.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
    clients: Vec<usize>,
    #[arg(long, value_enum, default_value = "table")]
    output: super::ReportFormat,
    /// The key profile of every stack booted: cli, legacy or a signing-keys file (default: the
    /// project's, else HARNESS_KEYS, else cli).
    #[arg(long, value_name = "cli|legacy|PATH", value_parser = super::provider::parse_keys)]
    keys: Option<harness::signing::KeyProfile>,
    /// Scenarios replayed at once in the suite, as `harness run --jobs` (default: the same).
    #[arg(long, short = 'j', value_parser = clap::value_parser!(u16).range(1..=64))]
    jobs: Option<u16>,
    /// Boot one stack, print `boot_us=<microseconds>` and exit: what a cold run executes.
    #[arg(long, hide = true)]
    boot_probe: bool,
}

pub(crate) async fn run(args: BenchArgs) -> anyhow::Result<bool> {
    if args.boot_probe {
        let elapsed = bench::boot_once().await.context("booting the stack")?;
        super::print(&format!("boot_us={}\n", elapsed.as_micros()))?;
        return Ok(true);
    }
    if args.duration > MAX_DURATION || args.duration.is_zero() {
        bail!("--duration must be between 1ms and {MAX_DURATION:?}");
    }
    let warm_runs = args.runs.unwrap_or(5);
    let cold_runs = args.cold_runs.or(args.runs).unwrap_or(3);
    if warm_runs > MAX_RUNS || cold_runs > MAX_RUNS {
        bail!("at most {MAX_RUNS} runs");
    }
    if args.clients.is_empty() || args.clients.iter().any(|&c| c == 0 || c > 64) {
        bail!("--clients must be between 1 and 64");
    }
    let scenarios = load_all(&args.paths, None)?;
    let cold = if args.skip_cold {
        None
    } else {
        let program = std::env::current_exe().context("locating the harness binary")?;
        let probe = ColdProbe {
            program,
            args: vec!["bench".to_owned(), "--boot-probe".to_owned()],
        };
        Some((probe, cold_runs))
    };
    let options = Options {
        warm_runs,
        cold,
        duration: args.duration,
        levels: args.clients,
        keys: args.keys,
        jobs: args
            .jobs
            .map_or_else(harness::suite::default_jobs, usize::from),
    };
    let progress = |text: &str| eprintln!("bench: {text}");
    let report = bench::run(&options, &scenarios, &progress).await?;
    let text = args.output.render(&report, bench::render::render)?;
    super::print(&text)?;
    Ok(true)
}
