//! A server the stack runs as a child process, and the guarantee that it does not outlive us.
//!
//! Three layers make sure no PostgreSQL or auth server is left behind: `stop` (signal, bounded
//! wait, then SIGKILL), `Drop` doing the same when a test panics, and `PR_SET_PDEATHSIG` so the
//! kernel kills the child if the harness itself is killed. Children get their own process group,
//! so a terminal's Ctrl-C reaches only the harness, which then stops them in order. Output goes
//! to a log file whose tail is quoted in errors.

use std::{
    fs::{File, OpenOptions},
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::{OnceLock, mpsc},
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
        let parent = std::process::id();
        // SAFETY: the closure only calls async-signal-safe functions (prctl, getppid). It runs
        // after std has switched uid/gid, which would otherwise clear the death signal.
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The harness died between fork and prctl: do not start an orphan.
                if libc::getppid() as u32 != parent {
                    return Err(std::io::Error::other("the harness exited during spawn"));
                }
                Ok(())
            });
        }
        let child = spawn_on_parent_thread(command)
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
        for pid in descendants(root) {
            unsafe { libc::kill(pid, signal) };
        }
        unsafe { libc::kill(root, signal) };
        match signal {
            libc::SIGKILL => {
                let _ = self.child.wait();
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

impl Drop for ChildProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Every process below `root`, from /proc (each process's parent is field 4 of its `stat`).
fn descendants(root: libc::pid_t) -> Vec<libc::pid_t> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let parents: Vec<(libc::pid_t, libc::pid_t)> = entries
        .filter_map(|entry| {
            let pid: libc::pid_t = entry.ok()?.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // The command name (field 2) may hold spaces; the fields after its `)` do not.
            let after_name = &stat[stat.rfind(')')? + 2..];
            let parent = after_name.split(' ').nth(1)?.parse().ok()?;
            Some((pid, parent))
        })
        .collect();
    let mut found = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for &(pid, _) in parents.iter().filter(|(_, p)| *p == parent) {
            found.push(pid);
            frontier.push(pid);
        }
    }
    found
}

/// Spawns from one thread that lives as long as the process. PR_SET_PDEATHSIG fires when the
/// *thread* that forked exits, so spawning from a test's or a runtime's thread would kill a
/// stack kept in a static when that thread ends, long before the harness does.
fn spawn_on_parent_thread(command: Command) -> std::io::Result<Child> {
    type Request = (Command, mpsc::Sender<std::io::Result<Child>>);
    static SPAWNER: OnceLock<mpsc::Sender<Request>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (requests, incoming) = mpsc::channel::<Request>();
        thread::Builder::new()
            .name("harness-spawner".to_owned())
            .spawn(move || {
                for (mut command, reply) in incoming {
                    let _ = reply.send(command.spawn());
                }
            })
            .expect("starting the spawner thread");
        requests
    });
    let (reply, result) = mpsc::channel();
    spawner
        .send((command, reply))
        .map_err(|_| std::io::Error::other("the spawner thread is gone"))?;
    result
        .recv()
        .map_err(|_| std::io::Error::other("the spawner thread is gone"))?
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
