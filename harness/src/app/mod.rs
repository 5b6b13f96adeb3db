//! The service under test as a process the harness owns: a team's own Next.js, FastAPI or axum
//! app, started against the stack, waited on until it is ready, watched while scenarios run,
//! and stopped with everything it started.
//!
//! Nearly every tool that starts a user's service gets its bug reports about exactly this
//! (readiness races, orphaned grandchildren holding the port, output lost until it is too late),
//! so each of those is a piece of its own: [`ServiceSpec`] (what harness.toml declares),
//! [`env`] (templates and presets), [`output`] (lines with their times), readiness, and
//! [`RunningService`] (the process group and its stop), and [`Services`], a project's set of
//! them for one run.

mod env;
mod error;
mod output;
mod process;
mod ready;
mod services;
mod spec;

pub use env::{EnvTemplate, INHERITED, Preset, StackValues, TEMPLATE_NAMES};
pub use error::AppError;
pub use output::{Output, OutputLine, Stream, TAIL_LINES};
pub use process::{RunningService, StartOptions};
pub use services::Services;
pub use spec::{
    DEFAULT_READY_TIMEOUT, DEFAULT_STOP_TIMEOUT, PortChoice, Readiness, ReadyTcp, ReadyUrl,
    ServiceSpec, StatusSet,
};
