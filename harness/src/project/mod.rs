//! A team's own project under the harness: `harness.toml` at its root names its scenarios,
//! snapshots, Supabase folder and services.
//!
//! ```toml
//! # scenarios = "harness/scenarios"   # the defaults, next to harness.toml
//! # snapshots = "harness/snapshots"
//! # supabase = "supabase"             # default: found as the Supabase CLI finds it
//!
//! [service.web]
//! command = "npm run dev"
//! preset = "nextjs"                   # NEXT_PUBLIC_SUPABASE_URL, ..._ANON_KEY, ...
//! port = "auto"                       # a free port, passed as PORT and {{PORT}}
//! ready_url = "/api/health"           # on http://127.0.0.1:{{PORT}}
//! env = { API_BASE = "{{API_URL}}/rest/v1" }
//!
//! [invariants]                        # what a fault scenario's invariants judge
//! stage = "web"                       # default: the only service, else "reference"
//! writes = { table = "public.sessions", id = "sessionId" }   # default: not checked
//! timeout = "5s"                      # how long it may take to answer under a fault
//!
//! [chaos]                             # what `harness chaos` clients send to that stage
//! request = "POST /api/sessions"
//! body = { device = "chaos" }         # optional, as JSON
//! ```
//!
//! [`Project::discover`] finds it from the current directory, [`Project::load`] reads a given
//! folder; [`supabase`] reads the Supabase folder, [`init`] writes a first harness.toml.

mod chaos;
mod error;
pub mod init;
mod invariants;
mod manifest;
pub mod supabase;

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
};

pub use error::{ProjectError, Warning};
pub use supabase::{ApiConfig, AuthConfig, SqlFile, SupabaseConfig, SupabaseProject};

use crate::{app::ServiceSpec, run::InvariantSpec};

/// The file that makes a folder a harness project.
pub const MANIFEST: &str = "harness.toml";

/// Where a project's scenarios live unless harness.toml says otherwise. Under one `harness/`
/// folder with the snapshots, not a top-level `scenarios/`: apps already have folders of that
/// kind of name (test fixtures, Jest's snapshots), and one folder is easy to find, to give an
/// owner in CODEOWNERS, and to delete.
pub const DEFAULT_SCENARIOS: &str = "harness/scenarios";

/// Where a project's snapshots live unless harness.toml says otherwise (see
/// [`DEFAULT_SCENARIOS`]).
pub const DEFAULT_SNAPSHOTS: &str = "harness/snapshots";

/// A loaded project.
#[derive(Debug, Clone)]
pub struct Project {
    /// The folder holding harness.toml.
    pub root: PathBuf,
    /// harness.toml itself.
    pub manifest: PathBuf,
    pub scenarios: PathBuf,
    pub snapshots: PathBuf,
    /// `None` when the project has no Supabase folder: the stack then has no project schema.
    pub supabase: Option<SupabaseProject>,
    /// In harness.toml's order.
    pub services: Vec<ServiceSpec>,
    /// What a fault scenario's invariants judge (`[invariants]`).
    pub invariants: InvariantSpec,
    /// What `harness chaos` sends to the judged stage (`[chaos]`); `None`: chaos cannot run.
    pub chaos: Option<crate::chaos::Request>,
    /// What the loader ignored or skipped, each once (the Supabase folder's included).
    pub warnings: Vec<Warning>,
}

impl Project {
    /// The project whose harness.toml is in `cwd` or the nearest folder above it (as Cargo
    /// finds Cargo.toml); `None` when there is none, and the harness behaves as without one.
    pub fn discover(cwd: &Path) -> Result<Option<Project>, ProjectError> {
        let cwd = std::path::absolute(cwd).map_err(|e| ProjectError::read(cwd, e))?;
        match cwd.ancestors().find(|dir| dir.join(MANIFEST).is_file()) {
            Some(root) => Self::load(root).map(Some),
            None => Ok(None),
        }
    }

    /// The project in `dir` (`--project DIR`); its harness.toml must exist.
    pub fn load(dir: &Path) -> Result<Project, ProjectError> {
        Self::load_with_env(dir, std::env::vars().collect())
    }

    /// [`Project::load`] with `process_env` standing for the process environment, which
    /// `supabase/config.toml`'s `env()` values and `SUPABASE_*` overrides read.
    pub fn load_with_env(
        dir: &Path,
        process_env: HashMap<String, String>,
    ) -> Result<Project, ProjectError> {
        let root = std::path::absolute(dir).map_err(|e| ProjectError::read(dir, e))?;
        let manifest = root.join(MANIFEST);
        let text = match std::fs::read_to_string(&manifest) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ProjectError::NoManifest { dir: root });
            }
            Err(e) => return Err(ProjectError::read(&manifest, e)),
        };
        let parsed = manifest::parse(&manifest, &text)?;
        let supabase_dir = match parsed.supabase {
            Some((dir, position)) => {
                if !dir.join("config.toml").is_file() {
                    let hint = if dir.join("supabase").join("config.toml").is_file() {
                        format!(": did you mean `{}`?", dir.join("supabase").display())
                    } else {
                        String::new()
                    };
                    return Err(ProjectError::invalid(
                        &manifest,
                        Some(position),
                        format!(
                            "supabase: {} has no config.toml; name the folder `supabase init` \
                             created{hint}",
                            dir.display()
                        ),
                    ));
                }
                Some(dir)
            }
            None => supabase::locate(
                &root,
                process_env.get(supabase::WORKDIR_ENV).map(String::as_str),
            ),
        };
        let supabase = match supabase_dir {
            Some(dir) => Some(SupabaseProject::load_with_env(&dir, process_env)?),
            None => None,
        };
        let warnings = supabase
            .as_ref()
            .map(|s| s.warnings.clone())
            .unwrap_or_default();
        Ok(Project {
            scenarios: parsed
                .scenarios
                .unwrap_or_else(|| root.join(DEFAULT_SCENARIOS)),
            snapshots: parsed
                .snapshots
                .unwrap_or_else(|| root.join(DEFAULT_SNAPSHOTS)),
            root,
            manifest,
            supabase,
            services: parsed.services,
            invariants: parsed.invariants,
            chaos: parsed.chaos,
            warnings,
        })
    }

    /// The service named `name`.
    pub fn service(&self, name: &str) -> Option<&ServiceSpec> {
        self.services.iter().find(|service| service.name == name)
    }

    /// The services' names: the stages a project's scenarios may use beside the built-in ones.
    pub fn service_names(&self) -> Vec<&str> {
        self.services.iter().map(|s| s.name.as_str()).collect()
    }
}
