//! Why a project could not be loaded, and what the loader noticed but went on with.
//!
//! Every problem names its file and, when it has one, its line and column, in the same
//! `path:line:column: message` shape as a scenario's parse errors, so an editor can jump to it.

use std::{fmt, io, path::PathBuf};

use crate::scenario::Position;

/// A project that cannot be used as it is.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    /// No `harness.toml` where one was asked for.
    #[error(
        "no harness.toml in {dir}: run `harness init` there to write one, or pass the folder that \
         holds it with --project"
    )]
    NoManifest { dir: PathBuf },

    /// A file the project names that cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// `harness init` found files it would have written; it wrote nothing.
    #[error(
        "harness init writes nothing over existing files, and these exist: {}; move them away \
         to start afresh, or edit them",
        paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    AlreadyExists { paths: Vec<PathBuf> },

    /// A file the harness could not write.
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// Something wrong at a place in a file.
    #[error("{}", Located { path, position: *position, message })]
    Invalid {
        path: PathBuf,
        position: Option<Position>,
        message: String,
    },

    /// The project's PostgreSQL is not the one the harness runs.
    #[error(
        "{}",
        Located {
            path,
            position: *position,
            message: &format!(
                "[db] major_version is {found}{}, but the harness runs PostgreSQL {runs}: set \
                 major_version = {runs} if the project's schema works on {runs}, or run this \
                 project with the Supabase CLI",
                if *defaulted { " (not set, so the Supabase CLI's default)" } else { "" }
            ),
        }
    )]
    MajorVersion {
        path: PathBuf,
        position: Option<Position>,
        found: u64,
        runs: u32,
        /// The key is absent and the CLI's default applied.
        defaulted: bool,
    },
}

impl ProjectError {
    pub(crate) fn invalid(
        path: impl Into<PathBuf>,
        position: Option<Position>,
        message: impl Into<String>,
    ) -> Self {
        Self::Invalid {
            path: path.into(),
            position,
            message: message.into(),
        }
    }

    pub(crate) fn read(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Read {
            path: path.into(),
            source,
        }
    }
}

/// Something the loader ignored or worked around; the project still loads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub path: PathBuf,
    pub position: Option<Position>,
    /// The key (`auth.rate_limit`), file or pattern the warning is about.
    pub subject: String,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Located {
            path: &self.path,
            position: self.position,
            message: &self.message,
        }
        .fmt(f)
    }
}

/// `path:line:column: message`.
struct Located<'a> {
    path: &'a PathBuf,
    position: Option<Position>,
    message: &'a str,
}

impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(position) = self.position {
            write!(f, ":{position}")?;
        }
        write!(f, ": {}", self.message)
    }
}
