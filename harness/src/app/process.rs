//! A started service: its process group, its output, and the guarantee that it is stopped on
//! every way out (`stop`, `Drop` in a panicking test, and the kernel's death signal if the
//! harness itself is killed).
//!
//! Stopping means the whole family: SIGTERM to the process group (and to any descendant that
//! left it with setsid), up to `stop_timeout` for all of them to exit, then SIGKILL; and the
//! stop is complete only when the port is free again. `sh -c` is the group leader, so `npm` →
//! `node` grandchildren are reached even after `npm` itself has exited.

use std::{
    os::unix::process::CommandExt,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use super::{
    AppError, ServiceSpec,
    env::{StackValues, environment},
    output::{Output, Stream},
    ready,
    spec::PortChoice,
};
use crate::process::{port, spawn_guarded, tree};

/// How long SIGKILLed processes and a released port get to disappear.
const KILL_GRACE: Duration = Duration::from_secs(2);
/// How long a crashed service's pipes get to deliver its last lines before they are quoted.
const DRAIN: Duration = Duration::from_millis(500);

/// Where a start writes its log, and whether lines are echoed to the harness's stderr as
/// `[name] line` (for `harness up`, and so a failing start shows its output as it happens).
#[derive(Debug, Clone)]
pub struct StartOptions {
    log_file: PathBuf,
    echo: bool,
}

impl StartOptions {
    pub fn new(log_file: impl Into<PathBuf>) -> StartOptions {
        StartOptions {
            log_file: log_file.into(),
            echo: false,
        }
    }

    pub fn echo(mut self, echo: bool) -> StartOptions {
        self.echo = echo;
        self
    }
}

/// A service that was started and became ready; stopped when dropped.
#[derive(Debug)]
pub struct RunningService {
    name: String,
    child: Child,
    group: libc::pid_t,
    port: Option<u16>,
    started: Instant,
    output: Output,
    stop_timeout: Duration,
    stopped: bool,
}

impl ServiceSpec {
    /// Starts the service with `values` (the stack's; `PORT` is added here) and waits until it
    /// is ready, it exits, or `ready_timeout` passes; in the last two cases it is stopped and
    /// the error quotes its output.
    ///
    /// ```no_run
    /// # async fn demo(project: harness::project::Project, stack: harness::Stack) -> anyhow::Result<()> {
    /// use harness::app::{StackValues, StartOptions};
    /// let values = StackValues::new(stack.env());
    /// let web = &project.services[0];
    /// let running = web.start(&values, StartOptions::new("web.log")).await?;
    /// // ... requests to running.url() ...
    /// running.stop().await?;
    /// # Ok(()) }
    /// ```
    pub async fn start(
        &self,
        values: &StackValues,
        options: StartOptions,
    ) -> Result<RunningService, AppError> {
        if self.ready.is_empty() && self.port == PortChoice::Unset {
            return Err(AppError::NoReadiness {
                service: self.name.clone(),
            });
        }
        let port = match self.port {
            PortChoice::Unset => None,
            PortChoice::Fixed(port) => {
                if port::is_listening(port) {
                    return Err(AppError::PortInUse {
                        service: self.name.clone(),
                        port,
                        holders: holders(port),
                    });
                }
                Some(port)
            }
            PortChoice::Auto => Some(port::free_port().map_err(|source| AppError::Spawn {
                service: self.name.clone(),
                command: self.command.clone(),
                cwd: self.cwd.clone(),
                source,
            })?),
        };
        let mut values = values.clone();
        if let Some(port) = port {
            values.set("PORT", port.to_string());
        }
        let env = environment(self, &values, |name| std::env::var(name).ok()).map_err(
            |(variable, name)| AppError::MissingValue {
                service: self.name.clone(),
                variable,
                name,
            },
        )?;
        let echo = options.echo.then(|| format!("[{}] ", self.name));
        let output =
            Output::create(&options.log_file, echo).map_err(|source| AppError::LogFile {
                service: self.name.clone(),
                path: options.log_file.clone(),
                source,
            })?;

        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(&self.command)
            .current_dir(&self.cwd)
            .env_clear()
            .envs(&env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = spawn_guarded(command).map_err(|source| AppError::Spawn {
            service: self.name.clone(),
            command: self.command.clone(),
            cwd: self.cwd.clone(),
            source,
        })?;
        if let Some(stdout) = child.stdout.take() {
            output.read(stdout, Stream::Stdout);
        }
        if let Some(stderr) = child.stderr.take() {
            output.read(stderr, Stream::Stderr);
        }
        let mut service = RunningService {
            name: self.name.clone(),
            group: child.id() as libc::pid_t,
            child,
            port,
            started: Instant::now(),
            output,
            stop_timeout: self.stop_timeout,
            stopped: false,
        };
        match ready::wait(&mut service, &self.ready, &values, self.ready_timeout).await {
            Ok(()) => Ok(service),
            Err(error) => {
                // Stopped off the runtime: a stop may take the whole stop_timeout.
                let _ = tokio::task::spawn_blocking(move || service.stop_blocking()).await;
                Err(error)
            }
        }
    }
}

impl RunningService {
    /// The `[service.NAME]` name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The pid of `sh -c`, which is also the process group's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The port it was given (`PORT`), if any.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// `http://127.0.0.1:PORT` when it has a port: where a scenario's `stage = "NAME"` goes.
    pub fn url(&self) -> Option<String> {
        self.port.map(|port| format!("http://127.0.0.1:{port}"))
    }

    /// Everything it printed so far.
    pub fn output(&self) -> &Output {
        &self.output
    }

    /// `Err(Exited)` once the service has exited by itself (it is not restarted): the runner
    /// asks before and after each step, so a crash is reported as the crash it is.
    pub fn check(&mut self) -> Result<(), AppError> {
        match self.child.try_wait() {
            Ok(Some(status)) if !self.stopped => {
                self.output.wait_closed(DRAIN);
                Err(AppError::Exited {
                    service: self.name.clone(),
                    status: status.to_string(),
                    after: self.started.elapsed(),
                    tail: self.output.tail_text(),
                })
            }
            _ => Ok(()),
        }
    }

    /// The exit status if the direct child (`sh`) has exited; used while waiting to be ready.
    pub(super) fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    pub(super) fn started(&self) -> Instant {
        self.started
    }

    /// Stops it (see the module comment) without blocking the async runtime.
    pub async fn stop(mut self) -> Result<(), AppError> {
        tokio::task::spawn_blocking(move || self.stop_blocking())
            .await
            .expect("stopping a service does not panic")
    }

    /// Stops it, blocking for up to `stop_timeout` plus a few seconds. Idempotent.
    pub fn stop_blocking(&mut self) -> Result<(), AppError> {
        if self.stopped {
            return Ok(());
        }
        self.stopped = true;
        let leader = self.child.id() as libc::pid_t;
        // Children that called setsid are out of the group, but still below the leader.
        let members = tree::live_members(self.group);
        let outside: Vec<libc::pid_t> = tree::descendants(leader)
            .into_iter()
            .filter(|pid| !members.contains(pid))
            .collect();
        self.signal(&outside, libc::SIGCONT);
        self.signal(&outside, libc::SIGTERM);
        if !self.wait_gone(&outside, self.stop_timeout) {
            let left = tree::live_members(self.group);
            tracing::warn!(service = %self.name, pids = ?left, "service ignored SIGTERM; killing its process group");
            self.signal(&outside, libc::SIGKILL);
            self.wait_gone(&outside, KILL_GRACE);
        }
        let _ = self.child.wait();
        if let Some(port) = self.port {
            let deadline = Instant::now() + KILL_GRACE;
            while port::is_listening(port) {
                if Instant::now() > deadline {
                    return Err(AppError::PortStillHeld {
                        service: self.name.clone(),
                        port,
                        holders: holders(port),
                    });
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Ok(())
    }

    /// `signal` to the whole group and to `outside`.
    fn signal(&self, outside: &[libc::pid_t], signal: libc::c_int) {
        // SAFETY: plain kill(2) calls on our own group and processes found below its leader.
        unsafe { libc::kill(-self.group, signal) };
        for &pid in outside {
            unsafe { libc::kill(pid, signal) };
        }
    }

    /// Waits up to `timeout` for the group and `outside` to have exited; reaps the leader.
    fn wait_gone(&mut self, outside: &[libc::pid_t], timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let _ = self.child.try_wait();
            let gone = tree::live_members(self.group).is_empty()
                && !outside.iter().any(|&pid| tree::is_alive(pid));
            if gone {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for RunningService {
    fn drop(&mut self) {
        if let Err(error) = self.stop_blocking() {
            tracing::warn!(%error, "stopping a dropped service");
        }
    }
}

/// ` by pid 12 (node server.js), pid 13 (...)`, or empty when no holder can be seen.
fn holders(port: u16) -> String {
    let pids = port::listeners(port);
    if pids.is_empty() {
        return String::new();
    }
    let described: Vec<String> = pids
        .iter()
        .map(|&pid| format!("pid {pid} ({})", tree::command_line(pid)))
        .collect();
    format!(" by {}", described.join(", "))
}
