//! A server the stack runs as a child process and reaches over HTTP (the auth server, the data
//! API), configured only through its own image's environment variables, so any binary that
//! honours them (ours, or the real one) can stand in.
//!
//! By default the program is the `harness` binary's hidden subcommand for that server: a test
//! binary finds it next to itself (cargo puts integration tests in `target/debug/deps` and the
//! harness in `target/debug`). A server is ready when its health URL answers 200; one that exits
//! first, or never answers, is an error quoting its log.

use std::{
    ffi::OsString,
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use super::{StackError, child::ChildProcess, ports::free_port};

/// Both servers shut down gracefully on SIGTERM; a stuck one is killed after this.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// A free port can be taken by another process before the server binds it.
const BIND_ATTEMPTS: usize = 3;

/// Which server: how it is named in errors and where its program is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ServerKind {
    /// `auth server`, `data API`.
    pub name: &'static str,
    /// The variable naming a binary to run instead (`HARNESS_AUTH_BIN`).
    pub bin_env: &'static str,
    /// The `harness` subcommand that runs our own (`auth-server`).
    pub subcommand: &'static str,
    /// The builder option that names a binary (`StackBuilder::auth_server_bin`).
    pub builder_option: &'static str,
}

/// What to execute to get a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServerProgram {
    pub kind: ServerKind,
    path: PathBuf,
    args: Vec<&'static str>,
}

impl ServerProgram {
    /// The builder's override, else the kind's variable, else the `harness` binary.
    pub(crate) fn locate(kind: ServerKind, explicit: Option<&Path>) -> Result<Self, StackError> {
        let from_env = std::env::var_os(kind.bin_env).filter(|v| !v.is_empty());
        let current = std::env::current_exe().ok();
        Self::locate_in(kind, explicit, from_env, current.as_deref())
    }

    pub(super) fn locate_in(
        kind: ServerKind,
        explicit: Option<&Path>,
        from_env: Option<OsString>,
        current_exe: Option<&Path>,
    ) -> Result<Self, StackError> {
        let given = |path: PathBuf| Self {
            kind,
            path,
            args: vec![],
        };
        if let Some(path) = explicit {
            return Ok(given(path.to_path_buf()));
        }
        if let Some(path) = from_env {
            return Ok(given(path.into()));
        }
        let mut looked = vec![format!("{} (unset)", kind.bin_env)];
        if let Some(exe) = current_exe {
            if exe.file_stem().is_some_and(|stem| stem == "harness") {
                return Ok(Self::harness(kind, exe.to_path_buf()));
            }
            let dir = exe.parent();
            for candidate in [dir, dir.and_then(Path::parent)].into_iter().flatten() {
                let path = candidate.join("harness");
                if path.is_file() {
                    return Ok(Self::harness(kind, path));
                }
                looked.push(path.display().to_string());
            }
        }
        Err(StackError::ServerNotFound {
            server: kind.name,
            bin_env: kind.bin_env,
            builder_option: kind.builder_option,
            looked: looked.join(", "),
        })
    }

    pub(super) fn harness(kind: ServerKind, path: PathBuf) -> Self {
        Self {
            kind,
            path,
            args: vec![kind.subcommand],
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

    /// The program with a clean environment holding `env` and little else.
    fn command(&self, env: &[(String, String)]) -> Command {
        let mut command = Command::new(&self.path);
        command.args(&self.args).env_clear();
        for inherited in ["PATH", "RUST_BACKTRACE", "TZ"] {
            if let Some(value) = std::env::var_os(inherited) {
                command.env(inherited, value);
            }
        }
        command.envs(env.iter().map(|(k, v)| (k, v)));
        command
    }
}

/// How one start of a server is configured once its port is known.
pub(crate) struct Launch {
    pub env: Vec<(String, String)>,
    /// The URL that answers 200 when the server is ready.
    pub health: String,
}

/// A running, healthy server.
#[derive(Debug)]
pub(crate) struct HttpChild {
    process: ChildProcess,
    port: u16,
}

impl HttpChild {
    /// Starts `program` on `port` (or a free one), configured by `launch(port)`, and waits
    /// until its health URL answers 200.
    pub(crate) async fn start(
        program: &ServerProgram,
        launch: impl Fn(u16) -> Result<Launch, StackError>,
        log: &Path,
        timeout: Duration,
        port: Option<u16>,
    ) -> Result<Self, StackError> {
        let mut attempt = 1;
        loop {
            let chosen = match port {
                Some(port) => port,
                None => free_port()?,
            };
            let Launch { env, health } = launch(chosen)?;
            let command = program.command(&env);
            let process = ChildProcess::spawn(command, log, None, libc::SIGTERM, STOP_GRACE)?;
            let mut server = Self {
                process,
                port: chosen,
            };
            match server.wait_healthy(program, &health, timeout).await {
                Err(StackError::ServerExited { log_tail, .. })
                    if attempt < BIND_ATTEMPTS
                        && log_tail.to_lowercase().contains("in use")
                        && port.is_none() =>
                {
                    tracing::debug!(
                        port = chosen,
                        server = program.kind.name,
                        "port taken before the server bound it; retrying"
                    );
                    attempt += 1;
                }
                Err(e) => return Err(e),
                Ok(()) if port.is_none() && attempt < BIND_ATTEMPTS && !server.holds_port() => {
                    // Another process's server took the port first and answered our health
                    // check (stacks of two harness runs booting at once): not ours, so again.
                    tracing::debug!(
                        port = chosen,
                        server = program.kind.name,
                        "port held by another process; retrying"
                    );
                    server.stop();
                    attempt += 1;
                }
                Ok(()) => return Ok(server),
            }
        }
    }

    async fn wait_healthy(
        &mut self,
        program: &ServerProgram,
        health: &str,
        timeout: Duration,
    ) -> Result<(), StackError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("a plain HTTP client builds");
        let started = Instant::now();
        loop {
            if let Some(status) = self.process.exited() {
                return Err(StackError::ServerExited {
                    server: program.kind.name,
                    program: program.describe(),
                    status: status.to_string(),
                    log_tail: self.process.log_tail(),
                });
            }
            let response = client.get(health).send().await;
            if response.is_ok_and(|r| r.status() == reqwest::StatusCode::OK) {
                tracing::debug!(server = program.kind.name, %health, elapsed = ?started.elapsed(), "healthy");
                return Ok(());
            }
            if started.elapsed() > timeout {
                return Err(StackError::ServerTimeout {
                    server: program.kind.name,
                    program: program.describe(),
                    url: health.to_owned(),
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

    /// Whether the process listening on the port is ours (or a child of it); true when the
    /// listeners cannot be seen (another user's processes are hidden).
    fn holds_port(&self) -> bool {
        let holders = crate::process::port::listeners(self.port);
        let ours = self.pid() as libc::pid_t;
        holders.is_empty()
            || holders
                .iter()
                .any(|pid| *pid == ours || crate::process::tree::descendants(ours).contains(pid))
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

#[cfg(test)]
mod tests {
    use super::*;

    const KIND: ServerKind = ServerKind {
        name: "auth server",
        bin_env: "HARNESS_AUTH_BIN",
        subcommand: "auth-server",
        builder_option: "StackBuilder::auth_server_bin",
    };

    fn program(path: &str, args: Vec<&'static str>) -> ServerProgram {
        ServerProgram {
            kind: KIND,
            path: path.into(),
            args,
        }
    }

    #[test]
    fn an_explicit_program_wins_and_runs_without_args() {
        let got = ServerProgram::locate_in(
            KIND,
            Some(Path::new("/opt/gotrue/auth")),
            Some("/elsewhere/auth".into()),
            Some(Path::new("/x/harness")),
        )
        .unwrap();
        assert_eq!(got, program("/opt/gotrue/auth", vec![]));
    }

    #[test]
    fn the_kinds_variable_comes_next() {
        let got = ServerProgram::locate_in(
            KIND,
            None,
            Some("/usr/local/bin/auth".into()),
            Some(Path::new("/x/harness")),
        )
        .unwrap();
        assert_eq!(got, program("/usr/local/bin/auth", vec![]));
    }

    #[test]
    fn the_harness_binary_runs_its_own_subcommand() {
        let got =
            ServerProgram::locate_in(KIND, None, None, Some(Path::new("/x/harness"))).unwrap();
        assert_eq!(got, program("/x/harness", vec!["auth-server"]));
    }

    #[test]
    fn a_test_binary_finds_the_harness_in_its_parent_directory() {
        let target = tempfile::tempdir().unwrap();
        let deps = target.path().join("deps");
        std::fs::create_dir(&deps).unwrap();
        std::fs::write(target.path().join("harness"), "").unwrap();
        let got =
            ServerProgram::locate_in(KIND, None, None, Some(&deps.join("stack-0123"))).unwrap();
        assert_eq!(
            got,
            ServerProgram::harness(KIND, target.path().join("harness"))
        );
    }

    #[test]
    fn no_program_is_a_clear_error() {
        let empty = tempfile::tempdir().unwrap();
        let exe = empty.path().join("deps").join("some-test");
        let err = ServerProgram::locate_in(KIND, None, None, Some(&exe)).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("no auth server program found"),
            "{message}"
        );
        assert!(message.contains("HARNESS_AUTH_BIN"), "{message}");
        assert!(message.contains("cargo build -p harness"), "{message}");
        assert!(
            message.contains(&empty.path().join("harness").display().to_string()),
            "{message}"
        );
    }
}
