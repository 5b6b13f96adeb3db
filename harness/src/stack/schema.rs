//! The SQL every stack's database starts from, embedded at build time (see `build.rs`).
//!
//! Three sources, applied in this order when a template is built: `db/init/*.sql` (the
//! supabase/postgres image's roles and grants, as `supabase_admin`), the auth crate's migrations
//! (as `supabase_auth_admin`, via `auth::migrate`), then the app's schema as `postgres`, like the
//! Supabase CLI: `db/migrations/*.sql` or a project's own SQL (see [`AppSchema`]). The template
//! hash covers all of it.

use super::app_schema::AppSchema;

/// One embedded SQL file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SqlFile {
    pub name: &'static str,
    pub sql: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/sql_files.rs"));

/// Every SQL text that shapes the template, labelled, in application order: Supabase's roles,
/// the auth schema, then the app's (the reference's or a project's).
pub(crate) fn all_sources(app: &AppSchema) -> Vec<(String, &str)> {
    let init = INIT_SQL
        .iter()
        .map(|f| (format!("db/init/{}", f.name), f.sql));
    let auth = auth::MIGRATIONS
        .iter()
        .map(|m| (format!("auth/{}", m.version), m.sql));
    init.chain(auth).chain(app.sources()).collect()
}
