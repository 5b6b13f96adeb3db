//! A server the stack runs as a child process, and the guarantee that it does not outlive us.
//!
//! Three layers make sure no PostgreSQL or auth server is left behind: `stop` (signal, bounded
//! wait, then SIGKILL), `Drop` doing the same when a test panics, and `PR_SET_PDEATHSIG` so the
//! kernel kills the child if the harness itself is killed. Children get their own process group,
//! so a terminal's Ctrl-C reaches only the harness, which then stops them in order. Output goes
//! to a log file whose tail is quoted in errors. The spawning and the process tree are
//! [`crate::process`]'s, shared with the project's own service.

use std::{
    fs::{File, OpenOptions},
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    thread,
    time::{Duration, Instant},
};

use super::StackError;

/// How many log lines an error quotes.
const TAIL_LINES: usize = 30;

/// A Unix user to run a child as (PostgreSQL refuses to run as root).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Credentials {
    pub uid: u32,
    pub gid: u32,
}

/// A running child with its log; stopped (and reaped) on drop.
#[derive(Debug)]
pub(crate) struct ChildProcess {
    child: Child,
    log: PathBuf,
    stop_signal: libc::c_int,
    grace: Duration,
}

impl ChildProcess {
    /// Spawns `command` with stdout and stderr appended to `log`. `stop_signal` is what asks
    /// this program for a graceful shutdown; after `grace` it is killed.
    pub(crate) fn spawn(
        mut command: Command,
        log: &Path,
        credentials: Option<Credentials>,
        stop_signal: libc::c_int,
        grace: Duration,
    ) -> Result<Self, StackError> {
        let program = command.get_program().to_string_lossy().into_owned();
        let out = open_log(log)?;
        let err = out
            .try_clone()
            .map_err(|e| StackError::io("duplicating a log handle", e))?;
        command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        if let Some(Credentials { uid, gid }) = credentials {
            command.uid(uid).gid(gid);
        }
        let child = crate::process::spawn_guarded(command)
            .map_err(|e| StackError::io(format!("starting {program}"), e))?;
        Ok(Self {
            child,
            log: log.to_path_buf(),
            stop_signal,
            grace,
        })
    }

    /// Runs a short-lived program (initdb, cp) to completion. If the caller is cancelled, the
    /// drop stops and reaps it, so nothing keeps writing into a directory being removed.
    pub(crate) async fn run(
        command: Command,
        log: &Path,
        credentials: Option<Credentials>,
    ) -> Result<ExitStatus, StackError> {
        let mut process = Self::spawn(
            command,
            log,
            credentials,
            libc::SIGTERM,
            Duration::from_secs(5),
        )?;
        loop {
            if let Some(status) = process.exited() {
                return Ok(status);
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status if the child has already exited.
    pub(crate) fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The last lines of the child's log, for error messages.
    pub(crate) fn log_tail(&self) -> String {
        log_tail(&self.log)
    }

    /// Asks the child to stop, waits up to the grace period, then kills it. Idempotent.
    pub(crate) fn stop(&mut self) {
        if self.exited().is_some() {
            return;
        }
        // A paused (SIGSTOPped) server cannot act on its stop signal.
        self.signal_tree(libc::SIGCONT);
        self.signal(self.stop_signal);
        let deadline = Instant::now() + self.grace;
        while Instant::now() < deadline {
            if self.exited().is_some() {
                return;
            }
            thread::sleep(Duration::from_millis(5));
        }
        tracing::warn!(
            pid = self.pid(),
            "child ignored its stop signal; killing it"
        );
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends `signal` to the child and every process it started. Not the process group:
    /// PostgreSQL's backends call setsid(), so a group signal would freeze or kill only the
    /// postmaster while the backends went on serving their open connections.
    pub(crate) fn signal_tree(&mut self, signal: libc::c_int) {
        if self.exited().is_some() {
            return;
        }
        let root = self.child.id() as libc::pid_t;
        // SAFETY (every kill below): plain syscalls on our child and the descendants found a
        // moment ago. Frozen first, the child forks nothing while its family is listed.
        unsafe { libc::kill(root, libc::SIGSTOP) };
        let descendants = crate::process::tree::descendants(root);
        for &pid in &descendants {
            unsafe { libc::kill(pid, signal) };
        }
        unsafe { libc::kill(root, signal) };
        match signal {
            libc::SIGKILL => {
                let _ = self.child.wait();
                // A killed process still runs until it is scheduled to die; a PostgreSQL
                // started meanwhile finds its backends attached to the old shared memory
                // ("pre-existing shared memory block is still in use"), as seen under load.
                wait_until_dead(&descendants);
            }
            libc::SIGSTOP => {}
            _ => unsafe {
                libc::kill(root, libc::SIGCONT);
            },
        }
    }

    fn signal(&self, signal: libc::c_int) {
        // SAFETY: plain syscall on our own, not yet reaped, child.
        unsafe { libc::kill(self.child.id() as libc::pid_t, signal) };
    }
}

/// Returns once none of `pids` runs (gone, or a zombie, which holds no memory), or after 5 s.
fn wait_until_dead(pids: &[libc::pid_t]) {
    let running = |pid: &libc::pid_t| {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            // The state follows the command name's closing parenthesis.
            stat.rsplit_once(')')
                .is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X']))
        })
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while pids.iter().any(running) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

fn open_log(path: &Path) -> Result<File, StackError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| StackError::io(format!("opening log file {}", path.display()), e))
}

/// The last lines of a log file, or a note saying why there are none.
pub(crate) fn log_tail(path: &Path) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let lines: Vec<&str> = text.lines().collect();
            let start = lines.len().saturating_sub(TAIL_LINES);
            if lines.is_empty() {
                format!("({} is empty)", path.display())
            } else {
                lines[start..].join("\n")
            }
        }
        Err(e) => format!("(could not read {}: {e})", path.display()),
    }
}
