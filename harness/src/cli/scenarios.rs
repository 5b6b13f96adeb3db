//! `harness list` and `harness show`, and finding and loading scenario files for every command.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::project::{ProjectArgs, Session, scenarios_dir, stage_names};
use clap::Args;
use harness::project::Project;
use harness::report::snapshot;
use harness::scenario::{self, Scenario};

/// The directory scenarios are read from when no path is given and there is no project.
pub(crate) const DEFAULT_DIR: &str = "scenarios";

/// Loads every scenario under `paths` (files or directories; default: the project's scenarios,
/// else `scenarios/`), each step's stage checked against the built-in stages and the project's
/// services. Every malformed file is reported, and then nothing runs.
pub(crate) fn load_all(
    paths: &[PathBuf],
    project: Option<&Project>,
) -> anyhow::Result<Vec<Scenario>> {
    let default = [scenarios_dir(project)];
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
        } else if project.is_none() && path == Path::new(DEFAULT_DIR) {
            bail!(
                "no scenarios/ directory and no harness.toml here: run from the project's root \
                 (or `harness init` to make this folder one), or name scenario files or directories"
            );
        } else if let Some(project) = project.filter(|p| paths.len() == 1 && *path == p.scenarios) {
            bail!(
                "{}: no such directory: the scenarios of {} go there (set `scenarios` in \
                 harness.toml to put them elsewhere; `harness init` writes a first one)",
                path.display(),
                project.manifest.display()
            );
        } else {
            bail!("{}: no such file or directory", path.display());
        }
    }
    let stages = stage_names(project);
    let stages: Vec<&str> = stages.iter().map(String::as_str).collect();
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
    /// Scenario files or directories (default: the project's, else scenarios/).
    paths: Vec<PathBuf>,
    #[command(flatten)]
    project: ProjectArgs,
}

pub(crate) fn list(args: ListArgs) -> anyhow::Result<()> {
    let project = args.project.load()?;
    let mut text = String::new();
    for scenario in load_all(&args.paths, project.as_ref())? {
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
    #[command(flatten)]
    project: ProjectArgs,
}

/// Replays one scenario and prints every exchange with the server's and services' log lines.
pub(crate) async fn show(args: ShowArgs) -> anyhow::Result<bool> {
    let project = args.project.load()?;
    let path = if args.name.ends_with(".toml") {
        PathBuf::from(&args.name)
    } else {
        scenarios_dir(project.as_ref()).join(format!("{}.toml", args.name))
    };
    let scenario = load_all(&[path], project.as_ref())?.remove(0);
    let builder = args.provider.builder().scenario(&scenario);
    let session = Session::start(builder, project.as_ref(), false, &|text| {
        eprintln!("harness: {text}")
    })
    .await?;
    let report = session.runner().replay(&scenario).await;
    session.stop().await?;
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
