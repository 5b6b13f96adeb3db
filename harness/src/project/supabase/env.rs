//! The variables `env(NAME)` and `SUPABASE_*` overrides read: the process's, then the dotenv
//! files the Supabase CLI loads.
//!
//! The CLI loads, in each folder from `supabase/` up to the project folder, `.env.<SUPABASE_ENV>.local`,
//! `.env.local` (not when SUPABASE_ENV is `test`), `.env.<SUPABASE_ENV>` and `.env`, with
//! SUPABASE_ENV defaulting to `development`; like godotenv, a file never overrides a variable
//! that is already set, so the first source naming a variable decides its value. An empty value
//! counts as unset, as in the CLI's lookups.

use std::{collections::HashMap, path::Path};

use crate::project::ProjectError;

/// Variables in precedence order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Env {
    sources: Vec<HashMap<String, String>>,
}

impl Env {
    /// `process` first, then the dotenv files from `supabase_dir` up to `workdir`.
    pub(crate) fn load(
        supabase_dir: &Path,
        workdir: &Path,
        process: HashMap<String, String>,
    ) -> Result<Env, ProjectError> {
        let mode = process
            .get("SUPABASE_ENV")
            .filter(|v| !v.is_empty())
            .cloned()
            .unwrap_or_else(|| "development".to_owned());
        let mut names = vec![format!(".env.{mode}.local")];
        if mode != "test" {
            names.push(".env.local".to_owned());
        }
        names.extend([format!(".env.{mode}"), ".env".to_owned()]);

        let mut env = Env {
            sources: vec![process],
        };
        for dir in supabase_dir.ancestors() {
            for name in &names {
                let path = dir.join(name);
                if path.is_file() {
                    env.sources.push(read_dotenv(&path)?);
                }
            }
            if dir == workdir {
                break;
            }
        }
        Ok(env)
    }

    /// The value of `name` from the first source that names it, unless that value is empty.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.sources
            .iter()
            .find_map(|source| source.get(name))
            .map(String::as_str)
            .filter(|value| !value.is_empty())
    }
}

fn read_dotenv(path: &Path) -> Result<HashMap<String, String>, ProjectError> {
    let entries = dotenvy::from_path_iter(path).map_err(|e| dotenv_error(path, e))?;
    let mut vars = HashMap::new();
    for entry in entries {
        let (name, value) = entry.map_err(|e| dotenv_error(path, e))?;
        // Within one file the last definition wins, as godotenv parses a file into a map.
        vars.insert(name, value);
    }
    Ok(vars)
}

fn dotenv_error(path: &Path, error: dotenvy::Error) -> ProjectError {
    match error {
        dotenvy::Error::Io(source) => ProjectError::read(path, source),
        other => ProjectError::invalid(path, None, format!("not a valid dotenv file: {other}")),
    }
}
