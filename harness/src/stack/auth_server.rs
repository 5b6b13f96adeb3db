//! The GoTrue-compatible auth server as a child process, configured only through GoTrue's own
//! environment variables, so any binary that honours them (ours or the real `auth`) can be used.
//!
//! By default the program is the `harness` binary's hidden `auth-server` subcommand, which runs
//! the `auth` crate: a test binary finds it next to itself (cargo puts integration tests in
//! `target/debug/deps` and the harness in `target/debug`).

use std::{
    ffi::OsString,
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use super::{StackError, child::ChildProcess, ports::free_port};

/// GoTrue shuts down gracefully on SIGTERM; a stuck one is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);
const BIND_ATTEMPTS: usize = 3;

/// What to execute to get an auth server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuthProgram {
    path: PathBuf,
    args: Vec<&'static str>,
}

impl AuthProgram {
    /// The builder's override, else HARNESS_AUTH_BIN, else the `harness` binary.
    pub(crate) fn locate(explicit: Option<&Path>) -> Result<Self, StackError> {
        let from_env = std::env::var_os("HARNESS_AUTH_BIN").filter(|v| !v.is_empty());
        let current = std::env::current_exe().ok();
        Self::locate_in(explicit, from_env, current.as_deref())
    }

    fn locate_in(
        explicit: Option<&Path>,
        from_env: Option<OsString>,
        current_exe: Option<&Path>,
    ) -> Result<Self, StackError> {
        if let Some(path) = explicit {
            return Ok(Self {
                path: path.to_path_buf(),
                args: vec![],
            });
        }
        if let Some(path) = from_env {
            return Ok(Self {
                path: path.into(),
                args: vec![],
            });
        }
        let mut looked = vec!["HARNESS_AUTH_BIN (unset)".to_owned()];
        if let Some(exe) = current_exe {
            if exe.file_stem().is_some_and(|stem| stem == "harness") {
                return Ok(Self::harness(exe.to_path_buf()));
            }
            let dir = exe.parent();
            for candidate in [dir, dir.and_then(Path::parent)].into_iter().flatten() {
                let path = candidate.join("harness");
                if path.is_file() {
                    return Ok(Self::harness(path));
                }
                looked.push(path.display().to_string());
            }
        }
        Err(StackError::AuthServerNotFound {
            looked: looked.join(", "),
        })
    }

    fn harness(path: PathBuf) -> Self {
        Self {
            path,
            args: vec!["auth-server"],
        }
    }

    fn describe(&self) -> String {
        let mut text = self.path.display().to_string();
        for arg in &self.args {
            text.push(' ');
            text.push_str(arg);
        }
        text
    }
}

/// The settings the stack passes as GoTrue env vars.
#[derive(Debug, Clone)]
pub(crate) struct AuthSettings {
    pub database_url: String,
    pub jwt_secret: String,
    pub jwt_exp: u64,
    pub log_level: String,
}

/// A running, healthy auth server.
#[derive(Debug)]
pub(crate) struct AuthServer {
    process: ChildProcess,
    port: u16,
    url: String,
}

impl AuthServer {
    /// Starts the program on a free port and waits until `GET /health` answers 200.
    pub(crate) async fn start(
        program: &AuthProgram,
        settings: &AuthSettings,
        log: &Path,
        timeout: Duration,
        port: Option<u16>,
    ) -> Result<Self, StackError> {
        let fixed_port = port;
        let mut attempt = 1;
        loop {
            let port = match fixed_port {
                Some(port) => port,
                None => free_port()?,
            };
            let url = format!("http://127.0.0.1:{port}");
            let command = command(program, settings, port, &url);
            let process = ChildProcess::spawn(command, log, None, libc::SIGTERM, STOP_GRACE)?;
            let mut server = Self { process, port, url };
            match server.wait_healthy(program, timeout).await {
                Err(StackError::AuthServerExited { log_tail, .. })
                    if attempt < BIND_ATTEMPTS
                        && log_tail.to_lowercase().contains("in use")
                        && fixed_port.is_none() =>
                {
                    tracing::debug!(port, "port taken before the auth server bound it; retrying");
                    attempt += 1;
                }
                Err(e) => return Err(e),
                Ok(()) => return Ok(server),
            }
        }
    }

    async fn wait_healthy(
        &mut self,
        program: &AuthProgram,
        timeout: Duration,
    ) -> Result<(), StackError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("a plain HTTP client builds");
        let health = format!("{}/health", self.url);
        let started = Instant::now();
        loop {
            if let Some(status) = self.process.exited() {
                return Err(StackError::AuthServerExited {
                    program: program.describe(),
                    status: status.to_string(),
                    log_tail: self.process.log_tail(),
                });
            }
            let response = client.get(&health).send().await;
            if response.is_ok_and(|r| r.status() == reqwest::StatusCode::OK) {
                tracing::debug!(url = %self.url, elapsed = ?started.elapsed(), "auth server healthy");
                return Ok(());
            }
            if started.elapsed() > timeout {
                return Err(StackError::AuthServerTimeout {
                    program: program.describe(),
                    url: self.url.clone(),
                    waited: timeout,
                    log_tail: self.process.log_tail(),
                });
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.process.pid()
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// SIGTERM, then SIGKILL after the grace period.
    pub(crate) fn stop(&mut self) {
        self.process.stop();
    }

    pub(crate) fn process(&mut self) -> &mut ChildProcess {
        &mut self.process
    }
}

/// The program with a clean environment holding GoTrue's configuration and little else.
fn command(program: &AuthProgram, settings: &AuthSettings, port: u16, url: &str) -> Command {
    let mut command = Command::new(&program.path);
    command.args(&program.args).env_clear();
    for inherited in ["PATH", "RUST_BACKTRACE", "TZ"] {
        if let Some(value) = std::env::var_os(inherited) {
            command.env(inherited, value);
        }
    }
    command
        .env("GOTRUE_DB_DRIVER", "postgres")
        .env("GOTRUE_DB_DATABASE_URL", &settings.database_url)
        .env("GOTRUE_JWT_SECRET", &settings.jwt_secret)
        .env("GOTRUE_JWT_EXP", settings.jwt_exp.to_string())
        .env("GOTRUE_JWT_AUD", "authenticated")
        .env("GOTRUE_JWT_DEFAULT_GROUP_NAME", "authenticated")
        .env("GOTRUE_JWT_ADMIN_ROLES", "service_role")
        .env("API_EXTERNAL_URL", url)
        .env("GOTRUE_SITE_URL", "http://127.0.0.1:3000")
        .env("GOTRUE_API_HOST", "127.0.0.1")
        .env("GOTRUE_API_PORT", port.to_string())
        .env("GOTRUE_MAILER_AUTOCONFIRM", "true")
        .env("GOTRUE_DISABLE_SIGNUP", "false")
        .env("GOTRUE_EXTERNAL_EMAIL_ENABLED", "true")
        .env("GOTRUE_LOG_LEVEL", &settings.log_level);
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_program_wins_and_runs_without_args() {
        let program = AuthProgram::locate_in(
            Some(Path::new("/opt/gotrue/auth")),
            Some("/elsewhere/auth".into()),
            Some(Path::new("/x/harness")),
        )
        .unwrap();
        assert_eq!(
            program,
            AuthProgram {
                path: "/opt/gotrue/auth".into(),
                args: vec![]
            }
        );
    }

    #[test]
    fn harness_auth_bin_comes_next() {
        let program = AuthProgram::locate_in(
            None,
            Some("/usr/local/bin/auth".into()),
            Some(Path::new("/x/harness")),
        )
        .unwrap();
        assert_eq!(
            program,
            AuthProgram {
                path: "/usr/local/bin/auth".into(),
                args: vec![]
            }
        );
    }

    #[test]
    fn the_harness_binary_runs_its_own_subcommand() {
        let program = AuthProgram::locate_in(None, None, Some(Path::new("/x/harness"))).unwrap();
        assert_eq!(
            program,
            AuthProgram {
                path: "/x/harness".into(),
                args: vec!["auth-server"]
            }
        );
    }

    #[test]
    fn a_test_binary_finds_the_harness_in_its_parent_directory() {
        let target = tempfile::tempdir().unwrap();
        let deps = target.path().join("deps");
        std::fs::create_dir(&deps).unwrap();
        std::fs::write(target.path().join("harness"), "").unwrap();
        let program = AuthProgram::locate_in(None, None, Some(&deps.join("stack-0123"))).unwrap();
        assert_eq!(program, AuthProgram::harness(target.path().join("harness")));
    }

    #[test]
    fn no_program_is_a_clear_error() {
        let empty = tempfile::tempdir().unwrap();
        let exe = empty.path().join("deps").join("some-test");
        let err = AuthProgram::locate_in(None, None, Some(&exe)).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("HARNESS_AUTH_BIN"), "{message}");
        assert!(message.contains("cargo build -p harness"), "{message}");
        assert!(
            message.contains(&empty.path().join("harness").display().to_string()),
            "{message}"
        );
    }
}
