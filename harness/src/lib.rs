//! Contract tests and fault injection for Supabase-backed APIs.
//!
//! [`Stack`] boots the backend a Supabase-backed service talks to (PostgreSQL with the
//! supabase/postgres roles and a GoTrue-compatible auth server) as local processes, and serves
//! the service's stages beside it. [`scenario`] reads scenario files, [`run`] replays them and
//! [`report`] turns the results into snapshots, tables and JUnit XML; [`bench`] measures how fast
//! all of it is; [`chaos`] loads the service while faults hit it and checks what must hold.

pub mod app;
pub mod bench;
pub mod chaos;
pub mod faults;
pub mod gateway;
pub mod logs;
mod process;
pub mod project;
pub mod report;
pub mod run;
pub mod scenario;
pub mod signing;
pub mod stack;
pub mod suite;

pub use run::Runner;
pub use stack::{JWT_SECRET, Stack, StackBuilder, StackError};
