//! A project's Supabase folder (`supabase/`), read as the Supabase CLI reads it for
//! `supabase db reset`: where it is, its `config.toml`, and its SQL in the order it is applied.

mod config;
mod doc;
mod env;
mod sql;

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
};

pub use config::{ApiConfig, AuthConfig, POSTGRES_MAJOR, SupabaseConfig};
pub use sql::{SqlFile, migrations};

use self::{doc::ConfigDoc, env::Env};
use super::{ProjectError, Warning};

/// The CLI's variable naming the folder that holds `supabase/` (its `--workdir`).
pub const WORKDIR_ENV: &str = "SUPABASE_WORKDIR";

/// A loaded `supabase/` folder.
#[derive(Debug, Clone)]
pub struct SupabaseProject {
    /// The `supabase/` folder itself.
    pub dir: PathBuf,
    pub config: SupabaseConfig,
    /// `supabase/roles.sql`, applied before the migrations.
    pub roles: Option<SqlFile>,
    /// Empty when `[db.migrations] enabled = false`.
    pub migrations: Vec<SqlFile>,
    /// Empty when `[db.seed] enabled = false`.
    pub seeds: Vec<SqlFile>,
    /// Keys ignored, files skipped, patterns that matched nothing.
    pub warnings: Vec<Warning>,
}

impl SupabaseProject {
    /// The `supabase/` folder the CLI would use when run in `start`: `$SUPABASE_WORKDIR/supabase`
    /// when that is set, else the first `supabase/config.toml` found walking up from `start`.
    /// `None` when there is none. Reads the process environment.
    pub fn discover(start: &Path) -> Result<Option<SupabaseProject>, ProjectError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        match locate(start, env.get(WORKDIR_ENV).map(String::as_str)) {
            Some(dir) => Self::load_with_env(&dir, env).map(Some),
            None => Ok(None),
        }
    }

    /// Loads the `supabase/` folder `dir`, with the process environment for `env()` values.
    pub fn load(dir: &Path) -> Result<SupabaseProject, ProjectError> {
        Self::load_with_env(dir, std::env::vars().collect())
    }

    /// Loads `dir` with `process_env` standing for the process environment (then the dotenv
    /// files, as the CLI reads them).
    pub fn load_with_env(
        dir: &Path,
        process_env: HashMap<String, String>,
    ) -> Result<SupabaseProject, ProjectError> {
        let config_path = dir.join("config.toml");
        let text = match std::fs::read_to_string(&config_path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ProjectError::invalid(
                    dir,
                    None,
                    "this Supabase folder has no config.toml: run `supabase init` in its parent \
                     folder, or point `supabase` in harness.toml at the folder that has one",
                ));
            }
            Err(e) => return Err(ProjectError::read(&config_path, e)),
        };
        let workdir = dir.parent().unwrap_or(dir);
        let env = Env::load(dir, workdir, process_env)?;
        let doc = ConfigDoc::parse(&config_path, &text, &env)?;
        let mut warnings = Vec::new();
        let config = SupabaseConfig::read(&doc, dir, &mut warnings)?;

        let roles = sql::roles(dir)?;
        let migrations = if config.migrations_enabled {
            let (files, skipped) = sql::migrations(&dir.join("migrations"))?;
            warnings.extend(skipped);
            files
        } else {
            Vec::new()
        };
        let seeds = if config.seed_enabled {
            let (files, unmatched) = sql::seeds(dir, &config_path, &config.seed_paths)?;
            warnings.extend(unmatched);
            files
        } else {
            Vec::new()
        };
        Ok(SupabaseProject {
            dir: dir.to_path_buf(),
            config,
            roles,
            migrations,
            seeds,
            warnings,
        })
    }

    /// Every SQL file in the order a stack applies them: roles, migrations, seeds.
    pub fn sql_files(&self) -> impl Iterator<Item = &SqlFile> {
        self.roles.iter().chain(&self.migrations).chain(&self.seeds)
    }
}

/// The CLI's rule (`internal/utils/misc.go`, `getProjectRoot`): the workdir override, else
/// the nearest folder at or above `start` holding `supabase/config.toml`.
pub(crate) fn locate(start: &Path, workdir: Option<&str>) -> Option<PathBuf> {
    if let Some(workdir) = workdir.filter(|w| !w.is_empty()) {
        return Some(start.join(workdir).join("supabase"));
    }
    start
        .ancestors()
        .map(|dir| dir.join("supabase"))
        .find(|dir| dir.join("config.toml").is_file())
}
