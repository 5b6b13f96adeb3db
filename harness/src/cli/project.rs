//! `--project DIR`, or the harness.toml found from the current directory, for every command that
//! boots a stack: which scenarios and snapshots, which schema, which services; and a
//! [`Session`], the stack with the project's services running against it.
//!
//! Without a harness.toml nothing changes: the reference schema, `scenarios/`, `snapshots/`,
//! and no services.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use harness::app::{Services, StackValues};
use harness::project::Project;
use harness::{Runner, Stack, StackBuilder};

#[derive(Debug, Clone, Args)]
pub(crate) struct ProjectArgs {
    /// The project folder holding harness.toml (default: the nearest one at or above the
    /// current directory; without one, this repo's reference service and scenarios).
    #[arg(long, value_name = "DIR")]
    project: Option<PathBuf>,
}

impl ProjectArgs {
    /// The project, with its warnings printed on stderr (once: the stack does not print them
    /// again); `None` when there is no harness.toml.
    pub(crate) fn load(&self) -> anyhow::Result<Option<Project>> {
        let project = match &self.project {
            Some(dir) => Some(Project::load(dir)?),
            None => {
                let cwd = std::env::current_dir().context("reading the current directory")?;
                Project::discover(&cwd)?
            }
        };
        if let Some(project) = &project {
            eprintln!("harness: project {}", project.manifest.display());
            for warning in &project.warnings {
                eprintln!("harness: warning: {warning}");
            }
        }
        Ok(project)
    }
}

/// The stages a scenario may name: the built-in ones, then the project's services.
pub(crate) fn stage_names(project: Option<&Project>) -> Vec<String> {
    let built_in = service::Stage::ALL
        .iter()
        .map(|stage| stage.name().to_owned());
    let services = project
        .into_iter()
        .flat_map(|project| project.service_names())
        .map(str::to_owned);
    built_in.chain(services).collect()
}

/// Where scenarios are read from when no path is given.
pub(crate) fn scenarios_dir(project: Option<&Project>) -> PathBuf {
    project.map_or_else(
        || PathBuf::from(super::scenarios::DEFAULT_DIR),
        |project| project.scenarios.clone(),
    )
}

/// Where snapshots are, unless `--snapshots` says.
pub(crate) fn snapshots_dir(project: Option<&Project>, flag: Option<&Path>) -> PathBuf {
    match (flag, project) {
        (Some(flag), _) => flag.to_path_buf(),
        (None, Some(project)) => project.snapshots.clone(),
        (None, None) => PathBuf::from("snapshots"),
    }
}

/// A stack and, with a project, its services started against it. Dropped (an error, Ctrl-C, a
/// panic), the services stop first, then the stack.
pub(crate) struct Session {
    // Field order is drop order.
    services: Option<Arc<Services>>,
    invariants: Option<harness::run::InvariantSpec>,
    stack: Stack,
}

impl Session {
    /// Boots `builder`'s stack (with the project's schema), then starts the project's services
    /// with [`Stack::service_env`], logging into the stack's directory (and to stderr as
    /// `[name] line` with `echo`).
    pub(crate) async fn start(
        builder: StackBuilder,
        project: Option<&Project>,
        echo: bool,
        progress: &dyn Fn(&str),
    ) -> anyhow::Result<Session> {
        let builder = match project {
            Some(project) => builder.for_project(project),
            None => builder,
        };
        let stack = builder.start().await.context("starting the stack")?;
        eprintln!(
            "harness: provider {}; keys {}",
            stack.provider_note(),
            stack.keys().initial().profile()
        );
        let Some(project) = project.filter(|project| !project.services.is_empty()) else {
            return Ok(Session {
                services: None,
                invariants: project.map(|project| project.invariants.clone()),
                stack,
            });
        };
        progress(&format!(
            "starting {}",
            project
                .service_names()
                .iter()
                .map(|name| format!("service `{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        let values = StackValues::new(stack.service_env());
        let logs = stack.dir().join("services");
        // A failed start stops what it started; the stack is dropped (stopped) on the way out.
        let services = Services::start(&project.services, &values, &logs, echo)
            .await
            .context("starting the project's services")?;
        Ok(Session {
            services: Some(Arc::new(services)),
            invariants: Some(project.invariants.clone()),
            stack,
        })
    }

    pub(crate) fn stack(&self) -> &Stack {
        &self.stack
    }

    pub(crate) fn stack_mut(&mut self) -> &mut Stack {
        &mut self.stack
    }

    pub(crate) fn services(&self) -> Option<&Services> {
        self.services.as_deref()
    }

    /// A runner for the stack's stages and the services, judging what the project names.
    pub(crate) fn runner(&self) -> Runner {
        let mut runner = Runner::for_stack(&self.stack);
        if let Some(services) = &self.services {
            runner = runner.with_services(Arc::clone(services) as _);
        }
        if let Some(invariants) = &self.invariants {
            runner = runner.with_invariants(invariants.clone());
        }
        runner
    }

    /// Stops the services (drop every runner first), then the stack.
    pub(crate) async fn stop(self) -> anyhow::Result<()> {
        let Session {
            services, stack, ..
        } = self;
        let stopped = match services.map(Arc::try_unwrap) {
            Some(Ok(services)) => services.stop().await.context("stopping the services"),
            // A runner still holds them: the last one dropped stops them.
            Some(Err(shared)) => {
                drop(shared);
                Ok(())
            }
            None => Ok(()),
        };
        let stack_stopped = stack.stop().await.context("stopping the stack");
        stopped.and(stack_stopped)
    }
}
