//! Why a service could not start, did not get ready, died, or would not let go of its port.
//!
//! Each names the service, what the harness was waiting for and for how long, and quotes the
//! tail of the service's output: the cause is nearly always in its last lines.

use std::{path::PathBuf, time::Duration};

/// A failure of the service under test's lifecycle.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(
        "service `{service}`: env {variable} uses {{{{{name}}}}}, which this stack does not \
         provide: remove it from [service.{service}.env] or run a stack that has it"
    )]
    MissingValue {
        service: String,
        variable: String,
        name: String,
    },

    #[error(
        "service `{service}` declares nothing to wait for: give it ready_url, ready_log, \
         ready_tcp or a port"
    )]
    NoReadiness { service: String },

    #[error(
        "service `{service}`: port {port} is already in use{holders}: stop what holds it, or \
         use port = \"auto\""
    )]
    PortInUse {
        service: String,
        port: u16,
        /// ` by pid 123 (node server.js)`, or empty when it cannot be seen.
        holders: String,
    },

    #[error("service `{service}`: cannot write its log file {path}: {source}")]
    LogFile {
        service: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("service `{service}`: cannot start `sh -c {command}` in {cwd}: {source}")]
    Spawn {
        service: String,
        command: String,
        cwd: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "service `{service}` exited ({status}) {after:.1?} after it started, before it was \
         ready; it was waited on for: {waited_for}; its output ends with:\n{tail}"
    )]
    ExitedBeforeReady {
        service: String,
        status: String,
        after: Duration,
        waited_for: String,
        tail: String,
    },

    #[error(
        "service `{service}` was not ready within {waited:?}: still waiting for {waited_for}; \
         raise ready_timeout if it is only slow; its output ends with:\n{tail}"
    )]
    NotReady {
        service: String,
        waited: Duration,
        waited_for: String,
        tail: String,
    },

    #[error(
        "service `{service}` exited by itself ({status}) {after:.1?} after it started; its \
         output ends with:\n{tail}"
    )]
    Exited {
        service: String,
        status: String,
        after: Duration,
        tail: String,
    },

    #[error(
        "service `{service}` is not running: it exited by itself earlier in this run (its \
         output was quoted then)"
    )]
    NotRunning { service: String },

    #[error(
        "service `{service}` was stopped, but port {port} is still in use{holders}: a process \
         that left its process group holds it"
    )]
    PortStillHeld {
        service: String,
        port: u16,
        holders: String,
    },
}
