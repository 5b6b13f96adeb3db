//! Contract tests and fault injection for Supabase-backed APIs.
//!
//! [`Stack`] boots the backend a Supabase-backed service talks to (PostgreSQL with the
//! supabase/postgres roles and a GoTrue-compatible auth server) as local processes.

pub mod stack;

pub use stack::{JWT_SECRET, Stack, StackBuilder, StackError};
