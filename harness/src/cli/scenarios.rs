//! `harness list` and `harness show`, and finding and loading scenario files for every command.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use harness::Runner;
use harness::report::snapshot;
use harness::scenario::{self, Scenario};

/// The directory scenarios are read from when no path is given.
const DEFAULT_DIR: &str = "scenarios";

pub(crate) fn stage_names() -> Vec<&'static str> {
    service::Stage::ALL
        .iter()
        .map(|stage| stage.name())
        .collect()
}

/// Loads every scenario under `paths` (files or directories; default `scenarios/`). Every
/// malformed file is reported, and then nothing runs.
pub(crate) fn load_all(paths: &[PathBuf]) -> anyhow::Result<Vec<Scenario>> {
    let default = [PathBuf::from(DEFAULT_DIR)];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            files.extend(
                scenario::files_in(path).with_context(|| format!("reading {}", path.display()))?,
            );
        } else if path.exists() {
            files.push(path.clone());
        } else if path == Path::new(DEFAULT_DIR) {
            bail!(
                "no scenarios/ directory here: run from the project's root, or name scenario files or directories"
            );
        } else {
            bail!("{}: no such file or directory", path.display());
        }
    }
    let stages = stage_names();
    let (scenarios, errors): (Vec<_>, Vec<_>) = files
        .iter()
        .map(|file| Scenario::load(file, &stages))
        .partition(Result::is_ok);
    if !errors.is_empty() {
        let errors: Vec<String> = errors
            .into_iter()
            .map(|error| error.unwrap_err().to_string())
            .collect();
        bail!(
            "{} malformed scenario file(s); nothing was run:\n{}",
            errors.len(),
            errors.join("\n")
        );
    }
    Ok(scenarios.into_iter().map(Result::unwrap).collect())
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Scenario files or directories (default: scenarios/).
    paths: Vec<PathBuf>,
}

pub(crate) fn list(args: ListArgs) -> anyhow::Result<()> {
    let mut text = String::new();
    for scenario in load_all(&args.paths)? {
        text.push_str(&format!(
            "{} ({} steps)\n",
            scenario.name,
            scenario.steps.len()
        ));
        for line in scenario.story.lines() {
            text.push_str(&format!("    {line}\n"));
        }
        text.push('\n');
    }
    super::print(&text)
}

#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// The scenario's name (its file stem) or path.
    name: String,
    #[command(flatten)]
    provider: super::provider::ProviderArgs,
}

/// Replays one scenario and prints every exchange with the server's log lines.
pub(crate) async fn show(args: ShowArgs) -> anyhow::Result<bool> {
    let path = if args.name.ends_with(".toml") {
        PathBuf::from(&args.name)
    } else {
        Path::new(DEFAULT_DIR).join(format!("{}.toml", args.name))
    };
    let scenario = load_all(&[path])?.remove(0);
    let stack = args.provider.start().await?;
    let report = Runner::for_stack(&stack).replay(&scenario).await;
    stack.stop().await.context("stopping the stack")?;
    let mut text = format!(
        "{}\n\n{}\n\n{}",
        scenario.name,
        scenario.story,
        snapshot::render(&report)
    );
    let failures = report.failures();
    if let Some(summary) = report.invariants_summary() {
        text.push_str(&format!("\n{summary}\n"));
    }
    if failures.is_empty() {
        text.push_str("\nevery expectation held\n");
    } else {
        text.push_str(&format!(
            "\nexpectations that did not hold:\n{}\n",
            failures.join("\n")
        ));
    }
    super::print(&text)?;
    Ok(report.passed())
}
