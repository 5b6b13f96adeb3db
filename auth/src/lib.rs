//! A GoTrue-compatible auth server: a drop-in for the `supabase/gotrue` image.
//!
//! API the harness relies on (kept stable while the server is filled in):
//! - [`MIGRATIONS`]: the embedded schema, in order; the harness hashes it for its template cache.
//! - [`migrate`]: applies what is missing, as the connected role (`supabase_auth_admin`).
//! - [`main_from_env`]: what the `auth` binary runs: read GoTrue's env vars, migrate, serve.

/// One embedded migration, tracked by version in `auth.schema_migrations` as GoTrue does.
pub struct Migration {
    pub version: &'static str,
    pub sql: &'static str,
}

/// The auth schema, oldest first.
pub static MIGRATIONS: &[Migration] = &[];

/// Applies every migration not yet recorded in `schema_migrations`.
pub async fn migrate(_database_url: &str) -> anyhow::Result<()> {
    anyhow::bail!("auth::migrate is not implemented yet")
}

/// Runs the server the way the image's `auth` binary does; returns the process exit code.
pub fn main_from_env() -> std::process::ExitCode {
    eprintln!("the auth server is not implemented yet");
    std::process::ExitCode::FAILURE
}
