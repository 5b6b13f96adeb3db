//! Why a stack could not start: every variant names the step that failed, with its input, and
//! says what to do, because a harness error that hides its cause costs its user days.

use std::{io, path::PathBuf, time::Duration};

/// A failure starting or stopping a [`Stack`](super::Stack).
///
/// The message never repeats its source (so `{:#}` in anyhow reads cleanly); `Debug` prints the
/// message and every cause, so `Stack::start().await.unwrap()` in a test says what to do.
#[derive(thiserror::Error)]
pub enum StackError {
    #[error(
        "PostgreSQL server binaries (initdb, postgres) not found; looked in: {searched}. \
         Install postgresql-15 (apt-get install postgresql-15) or set HARNESS_PG_BIN to the \
         directory holding initdb and postgres"
    )]
    PgBinariesNotFound { searched: String },

    #[error(
        "HARNESS_PG_BIN={dir} does not hold `{missing}`: set HARNESS_PG_BIN to the directory \
         holding initdb and postgres (e.g. /usr/lib/postgresql/15/bin)"
    )]
    PgBinDirInvalid { dir: PathBuf, missing: &'static str },

    #[error(
        "the harness runs as root and PostgreSQL refuses to, but there is no `postgres` system \
         user to run it as: create one (useradd --system postgres) or run as an unprivileged user"
    )]
    NoPostgresUser,

    #[error("the service under test could not start: {0}")]
    Service(String),

    #[error("containers provider: {0}")]
    Containers(String),

    #[error("{0}")]
    Config(String),

    #[error("{action}")]
    Io {
        action: String,
        #[source]
        source: io::Error,
    },

    #[error("{command} failed ({status}):\n{output}")]
    CommandFailed {
        command: String,
        status: String,
        output: String,
    },

    #[error(
        "PostgreSQL ({data_dir}) exited during startup ({status}); its log ends with:\n{log_tail}"
    )]
    PostgresExited {
        data_dir: PathBuf,
        status: String,
        log_tail: String,
    },

    #[error(
        "PostgreSQL ({data_dir}) did not accept connections within {waited:?}; \
         its log ends with:\n{log_tail}"
    )]
    PostgresTimeout {
        data_dir: PathBuf,
        waited: Duration,
        log_tail: String,
    },

    #[error("building the database template: {step}")]
    TemplateSql {
        step: String,
        #[source]
        source: sqlx::Error,
    },

    #[error(
        "building the database template: {}{}: {message}; fix the file and start again (the \
         half-built template was removed)",
        path.display(),
        position.map(|p| format!(":{p}")).unwrap_or_default()
    )]
    ProjectSql {
        path: PathBuf,
        position: Option<crate::scenario::Position>,
        message: String,
    },

    #[error("the project's schema: {0}")]
    Project(#[from] crate::project::ProjectError),

    #[error(
        "loading the `{profile}` key profile (--keys, HARNESS_KEYS, StackBuilder::keys or the \
         project's [auth] signing_keys_path)"
    )]
    Keys {
        profile: String,
        #[source]
        source: Box<crate::signing::SigningError>,
    },

    #[error("cannot {action}: {reason}")]
    Rotation { action: String, reason: String },

    #[error("building the database template: auth::migrate as supabase_auth_admin failed")]
    AuthMigrations {
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    #[error(
        "no {server} program found (looked at: {looked}): build the harness binary \
         (cargo build -p harness), set {bin_env} to a compatible binary, or call \
         {builder_option}"
    )]
    ServerNotFound {
        server: &'static str,
        bin_env: &'static str,
        builder_option: &'static str,
        looked: String,
    },

    #[error(
        "the {server} `{program}` exited before it was healthy ({status}); its log ends with:\n{log_tail}"
    )]
    ServerExited {
        server: &'static str,
        program: String,
        status: String,
        log_tail: String,
    },

    #[error(
        "the {server} `{program}` did not answer 200 on {url} within {waited:?}; \
         its log ends with:\n{log_tail}"
    )]
    ServerTimeout {
        server: &'static str,
        program: String,
        url: String,
        waited: Duration,
        log_tail: String,
    },
}

impl std::fmt::Debug for StackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")?;
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

impl StackError {
    pub(crate) fn io(action: impl Into<String>, source: io::Error) -> Self {
        Self::Io {
            action: action.into(),
            source,
        }
    }
}
