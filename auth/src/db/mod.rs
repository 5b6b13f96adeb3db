//! Rows of the auth schema and the queries on them, one module per table.
//!
//! Queries are plain `sqlx::query` calls (no compile-time checking against a live database) and
//! take `&mut PgConnection` so handlers decide where transactions begin and end. Like GoTrue,
//! users are always looked up under the nil `instance_id`.

pub mod audit;
pub mod identities;
pub mod refresh_tokens;
pub mod sessions;
pub mod users;
