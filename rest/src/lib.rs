//! A PostgREST-compatible data API: a drop-in for the `postgrest/postgrest` image.
//!
//! It follows **PostgREST v13.0.x**'s wire behaviour (contract:
//! `shared/reference/postgrest-kong-contract.md`) with the client-visible changes up to
//! **v14.5** (the version the self-hosted compose pins): `Server: postgrest/14.5`,
//! `pg_catalog`/`information_schema` refused in `db-schemas` at start, `Content-Length` on
//! every response, the single-unnamed-parameter RPC form only for unnamed parameters.
//!
//! It reads PostgREST's environment variables (`PGRST_DB_URI`, `PGRST_DB_SCHEMAS`,
//! `PGRST_DB_ANON_ROLE`, `PGRST_JWT_SECRET`, ...) and the in-database `pgrst.*` settings of
//! the authenticator, logs in as the authenticator role and runs each request in one
//! transaction as the role its Bearer token names, with PostgREST's request settings,
//! statuses, headers and `{code, details, hint, message}` errors.
//!
//! Modules, in the order a request meets them:
//! - [`config`]: `PGRST_*` variables and the in-database configuration;
//! - [`auth`]: the Bearer token, verified as PostgREST does, and the role;
//! - [`query`]: the query string, `Prefer`, `Range` and `Accept` as typed values (no SQL);
//! - [`schema`]: the schema cache every name is checked against;
//! - [`plan`]: the request as one SQL statement with bound parameters;
//! - [`transaction`]: the request's transaction and settings;
//! - [`http`]: routing, negotiation, CORS and the response;
//! - [`error`]: the one error type and its mapping to PostgREST's responses.
//!
//! Covered: configuration (environment and in-database, reloaded on `NOTIFY pgrst`), JWT
//! verification (HS256 passphrases, JWK/JWKS with `oct`, EC, RSA keys), the schema cache,
//! reads with filters, logic trees, order, pages, counts and embedding (to-one, to-many,
//! one-to-one, many-to-many, through views, `!inner`, spread), writes (insert, upsert, update, delete, PUT),
//! RPC, singular/CSV/stripped-nulls media types, PostgREST's error codes and SQLSTATE table,
//! CORS, and truthful 503/504 answers when the database fails. Not yet: aggregates, renamed
//! view columns in embedding, geo/plan media types, a full OpenAPI document; the full list
//! is in `rest/README.md`.

pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub mod http;
pub mod plan;
pub mod query;
pub mod schema;
mod server;
pub mod state;
pub mod transaction;

pub use config::{Config, ConfigError};
pub use error::ApiError;
pub use server::{LIMITS, main_from_env, serve, serve_within};
