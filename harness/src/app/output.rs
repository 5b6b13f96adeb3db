//! What a service prints, line by line with the time each line arrived, kept in memory for the
//! runner and written to a log file per run.
//!
//! Each pipe has a reader thread (blocking reads need no runtime, so `Drop` and a panicking test
//! lose nothing). A step asks for the lines printed while its request was in flight with
//! [`Output::between`]; errors quote [`Output::tail_text`].

use std::{
    collections::VecDeque,
    fs::File,
    io::{BufRead, BufReader, Read, Write},
    path::{Path, PathBuf},
    sync::{Arc, Condvar, Mutex},
    thread,
    time::{Duration, Instant, SystemTime},
};

/// Lines kept in memory; the log file has them all.
const KEPT: usize = 50_000;
/// A longer line is cut (a service printing a megabyte without a newline is not a log).
const MAX_LINE: u64 = 64 * 1024;
/// How many lines an error quotes.
pub const TAIL_LINES: usize = 30;

/// Which pipe a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// One line a service printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputLine {
    /// When the harness read it (monotonic: compare with the runner's `Instant`s).
    pub at: Instant,
    /// The same moment on the wall clock, for the log file.
    pub time: SystemTime,
    pub stream: Stream,
    /// Without its line ending; invalid UTF-8 replaced.
    pub text: String,
}

/// A service's output so far; cheap to clone, shared with its reader threads.
#[derive(Debug, Clone)]
pub struct Output {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    state: Mutex<State>,
    changed: Condvar,
    log_path: PathBuf,
    /// `[name] ` when lines are echoed to the harness's stderr.
    echo: Option<String>,
}

#[derive(Debug)]
struct State {
    lines: VecDeque<OutputLine>,
    /// Lines ever received; the first kept line has number `received - lines.len()`.
    received: usize,
    open_pipes: usize,
    log: Option<File>,
}

impl Output {
    /// An empty output writing to a new `log_path` (its folder is created).
    pub(crate) fn create(log_path: &Path, echo: Option<String>) -> std::io::Result<Output> {
        if let Some(parent) = log_path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let log = File::create(log_path)?;
        Ok(Output {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    lines: VecDeque::new(),
                    received: 0,
                    open_pipes: 0,
                    log: Some(log),
                }),
                changed: Condvar::new(),
                log_path: log_path.to_path_buf(),
                echo,
            }),
        })
    }

    /// Reads `pipe` on a thread of its own until it closes.
    pub(crate) fn read(&self, pipe: impl Read + Send + 'static, stream: Stream) {
        self.state().open_pipes += 1;
        let output = self.clone();
        let spawned = thread::Builder::new()
            .name(format!("service-{}", stream.name()))
            .spawn(move || {
                let mut reader = BufReader::new(pipe);
                let mut buf = Vec::new();
                loop {
                    buf.clear();
                    match reader.by_ref().take(MAX_LINE).read_until(b'\n', &mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {
                            while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                                buf.pop();
                            }
                            output.push(stream, String::from_utf8_lossy(&buf).into_owned());
                        }
                    }
                }
                output.state().open_pipes -= 1;
                output.inner.changed.notify_all();
            });
        if spawned.is_err() {
            self.state().open_pipes -= 1;
        }
    }

    fn push(&self, stream: Stream, text: String) {
        let time = SystemTime::now();
        if let Some(prefix) = &self.inner.echo {
            eprintln!("{prefix}{text}");
        }
        let mut state = self.state();
        if let Some(log) = state.log.as_mut() {
            let stamp =
                chrono::DateTime::<chrono::Utc>::from(time).format("%Y-%m-%dT%H:%M:%S%.3fZ");
            // A full disk must not stop the service's output from being read.
            let _ = writeln!(log, "{stamp} {} {text}", stream.name());
        }
        state.lines.push_back(OutputLine {
            at: Instant::now(),
            time,
            stream,
            text,
        });
        state.received += 1;
        if state.lines.len() > KEPT {
            state.lines.pop_front();
        }
        drop(state);
        self.inner.changed.notify_all();
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A reader thread cannot panic while holding the lock; recover the data if one did.
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every line kept, oldest first.
    pub fn lines(&self) -> Vec<OutputLine> {
        self.state().lines.iter().cloned().collect()
    }

    /// The lines that arrived at or after `from` and at or before `to`: what a step's request
    /// made the service print.
    pub fn between(&self, from: Instant, to: Instant) -> Vec<OutputLine> {
        self.state()
            .lines
            .iter()
            .filter(|line| line.at >= from && line.at <= to)
            .cloned()
            .collect()
    }

    /// Lines numbered `from` onwards (numbers count every line ever received), and the number
    /// the next line will get: for scanning output as it comes.
    pub(crate) fn since(&self, from: usize) -> (Vec<OutputLine>, usize) {
        let state = self.state();
        let first_kept = state.received - state.lines.len();
        let skip = from.saturating_sub(first_kept);
        (
            state.lines.iter().skip(skip).cloned().collect(),
            state.received,
        )
    }

    /// The last `count` lines.
    pub fn tail(&self, count: usize) -> Vec<OutputLine> {
        let state = self.state();
        let skip = state.lines.len().saturating_sub(count);
        state.lines.iter().skip(skip).cloned().collect()
    }

    /// The last [`TAIL_LINES`] lines as text, or a note that there were none.
    pub fn tail_text(&self) -> String {
        let tail = self.tail(TAIL_LINES);
        if tail.is_empty() {
            return "(it printed nothing)".to_owned();
        }
        tail.iter()
            .map(|line| format!("{} | {}", line.stream.name(), line.text))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The log file of this run.
    pub fn log_path(&self) -> &Path {
        &self.inner.log_path
    }

    /// Waits up to `timeout` for both pipes to close (the service and everything it started
    /// have exited), so a crash's last words are read before they are quoted.
    pub(crate) fn wait_closed(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut state = self.state();
        while state.open_pipes > 0 {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            state = match self.inner.changed.wait_timeout(state, deadline - now) {
                Ok((state, _)) => state,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }
}
