//! The project's SQL files, chosen and ordered as the Supabase CLI chooses them for `db reset`:
//! `roles.sql`, then `migrations/*.sql`, then the seed files.
//!
//! Migrations: the top level of `migrations/` in file-name order (Go's `fs.ReadDir` sorts by
//! name, byte-wise), files matching `^([0-9]+)_(.*)\.sql$` only, and the first entry skipped
//! when it is a pre-December-2021 `<14 digits>_init.sql` (`pkg/migration/list.go`). Seeds: each
//! `sql_paths` glob relative to `supabase/`, its matches sorted, duplicates dropped, in the order
//! the globs are written (`pkg/config`'s `Glob.Files`).

use std::{
    path::{Path, PathBuf},
    sync::LazyLock,
};

use regex::Regex;

use crate::project::{ProjectError, Warning};

/// One SQL file of the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlFile {
    pub path: PathBuf,
    /// The path from the `supabase/` folder (or the migrations folder's parent), as errors and
    /// the template key name it: `migrations/20240101000000_create.sql`.
    pub label: String,
    pub sql: String,
}

impl SqlFile {
    fn read(path: PathBuf, base: &Path) -> Result<SqlFile, ProjectError> {
        let sql = std::fs::read_to_string(&path).map_err(|e| ProjectError::read(&path, e))?;
        let label = path
            .strip_prefix(base)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        Ok(SqlFile { path, label, sql })
    }

    /// The version a migration's file name starts with (`20240101000000`), if it is one.
    pub fn version(&self) -> Option<&str> {
        let name = self.path.file_name()?.to_str()?;
        MIGRATION.captures(name)?.get(1).map(|m| m.as_str())
    }

    /// The name after the version (`create`), if it is a migration.
    pub fn migration_name(&self) -> Option<&str> {
        let name = self.path.file_name()?.to_str()?;
        MIGRATION.captures(name)?.get(2).map(|m| m.as_str())
    }
}

static MIGRATION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([0-9]+)_(.*)\.sql$").expect("a valid pattern"));
static LEGACY_INIT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"([0-9]{14})_init\.sql").expect("a valid pattern"));

/// The migrations of `dir` in the CLI's order, and a warning for each file it would skip. A
/// missing folder has none.
pub fn migrations(dir: &Path) -> Result<(Vec<SqlFile>, Vec<Warning>), ProjectError> {
    let base = dir.parent().unwrap_or(dir);
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
        Err(e) => return Err(ProjectError::read(dir, e)),
    };
    let mut entries: Vec<(String, PathBuf, bool)> = entries
        .map(|entry| {
            let entry = entry.map_err(|e| ProjectError::read(dir, e))?;
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            Ok((
                entry.file_name().to_string_lossy().into_owned(),
                entry.path(),
                is_dir,
            ))
        })
        .collect::<Result<_, ProjectError>>()?;
    entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));

    let (mut files, mut warnings) = (Vec::new(), Vec::new());
    for (index, (name, path, is_dir)) in entries.into_iter().enumerate() {
        if is_dir {
            continue;
        }
        let skip = |why: &str| Warning {
            path: path.clone(),
            position: None,
            subject: name.clone(),
            message: format!("skipping migration {name} ({why}), as the Supabase CLI does"),
        };
        if index == 0 && is_legacy_init(&name) {
            warnings.push(skip(
                "a first migration named <timestamp>_init.sql from before 2021-12-09 is the old \
                 CLI's initial schema: rename it to apply it",
            ));
            continue;
        }
        if !MIGRATION.is_match(&name) {
            warnings.push(skip(
                "file name must match pattern \"<timestamp>_name.sql\"",
            ));
            continue;
        }
        files.push(SqlFile::read(path, base)?);
    }
    Ok((files, warnings))
}

fn is_legacy_init(name: &str) -> bool {
    LEGACY_INIT
        .captures(name)
        .and_then(|found| found[1].parse::<u64>().ok())
        .is_some_and(|timestamp| timestamp < 20211209000000)
}

/// The seed files of `patterns` (relative to `supabase_dir` unless absolute), and a warning for
/// each pattern that matched nothing.
pub(super) fn seeds(
    supabase_dir: &Path,
    config_path: &Path,
    patterns: &[String],
) -> Result<(Vec<SqlFile>, Vec<Warning>), ProjectError> {
    let (mut files, mut warnings): (Vec<SqlFile>, Vec<Warning>) = (Vec::new(), Vec::new());
    for pattern in patterns.iter().filter(|p| !p.is_empty()) {
        let full = if Path::new(pattern).is_absolute() {
            PathBuf::from(pattern)
        } else {
            supabase_dir.join(pattern)
        };
        let glob = glob::glob(&normalise(&full).to_string_lossy()).map_err(|e| {
            ProjectError::invalid(
                config_path,
                None,
                format!("[db.seed] sql_paths: `{pattern}` is not a valid glob: {e}"),
            )
        })?;
        let mut matches: Vec<PathBuf> = glob
            .filter_map(Result::ok)
            .filter(|path| path.is_file())
            .collect();
        if matches.is_empty() {
            warnings.push(Warning {
                path: config_path.to_path_buf(),
                position: None,
                subject: pattern.clone(),
                message: format!("[db.seed] sql_paths: no files matched pattern {pattern}"),
            });
        }
        matches.sort();
        for path in matches {
            if !files.iter().any(|file| file.path == path) {
                files.push(SqlFile::read(path, supabase_dir)?);
            }
        }
    }
    Ok((files, warnings))
}

/// `supabase/roles.sql`, when it exists.
pub(super) fn roles(supabase_dir: &Path) -> Result<Option<SqlFile>, ProjectError> {
    let path = supabase_dir.join("roles.sql");
    if !path.is_file() {
        return Ok(None);
    }
    SqlFile::read(path, supabase_dir).map(Some)
}

/// `a/./b` → `a/b`, so `./seed.sql` and `seed.sql` name one file.
fn normalise(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_old_init_files_are_legacy() {
        assert!(is_legacy_init("20211208000000_init.sql"));
        assert!(!is_legacy_init("20211209000000_init.sql"));
        assert!(!is_legacy_init("20211208000000_initial.sql"));
        assert!(!is_legacy_init("2021120800000_init.sql"));
    }
}
