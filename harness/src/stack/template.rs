//! The template cache: `initdb` and the whole schema run once per PostgreSQL version and SQL
//! content, and every stack starts from a copy of the result.
//!
//! Boot speed is a feature (a warm stack starts in well under a second), and `initdb` plus the
//! auth migrations take seconds. The cache key is a sha256 over a format version, the exact
//! server version and every SQL text in application order, so editing any migration rebuilds it.
//! A template is built in a scratch directory and renamed into place, so a half-built template is
//! never seen; an flock makes parallel cold starts build it once.

use std::{
    fs::File,
    os::fd::AsRawFd,
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant, SystemTime},
};

use sha2::{Digest, Sha256};
use sqlx::Connection;

use super::{
    StackError,
    app_schema::AppSchema,
    child::{ChildProcess, Credentials, log_tail},
    postgres::{Cluster, PASSWORD, PgBinaries, SUPERUSER, give_to},
    schema, scratch,
};

/// Bump when the way a template is built changes without any SQL changing.
const FORMAT_VERSION: u32 = 2;

/// Templates unused this long are removed when a new one is built.
const STALE_AFTER: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// Roles that log in; all get the password `postgres`, as in the Supabase CLI.
const LOGIN_ROLES: &[&str] = &[
    "supabase_admin",
    "postgres",
    "authenticator",
    "supabase_auth_admin",
];

/// The cache key: a hex sha256 over the format version, the server version and every SQL text.
pub(crate) fn fingerprint(pg_version: &str, sources: &[(String, &str)]) -> String {
    let mut hash = Sha256::new();
    hash.update(format!(
        "supabase-harness template v{FORMAT_VERSION}\n{pg_version}\n"
    ));
    for (label, sql) in sources {
        // Length prefixes keep ("a", "bc") and ("ab", "c") apart.
        hash.update(format!("{}:{label}\n{}:", label.len(), sql.len()));
        hash.update(sql.as_bytes());
    }
    hex::encode(hash.finalize())
}

/// `${XDG_CACHE_HOME:-~/.cache}/supabase-harness/templates`.
fn cache_root() -> Result<PathBuf, StackError> {
    let absolute = |var: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    let base = absolute("XDG_CACHE_HOME")
        .or_else(|| absolute("HOME").map(|home| home.join(".cache")))
        .ok_or_else(|| {
            StackError::io(
                "locating the template cache",
                std::io::Error::other("neither XDG_CACHE_HOME nor HOME is set to an absolute path"),
            )
        })?;
    Ok(base.join("supabase-harness").join("templates"))
}

/// The template for this server and schema, built first if it is not cached yet.
pub(crate) async fn ensure(
    binaries: &PgBinaries,
    credentials: Option<Credentials>,
    timeout: Duration,
    app: &AppSchema,
) -> Result<PathBuf, StackError> {
    let key = fingerprint(binaries.version(), &schema::all_sources(app));
    let name = format!("pg{}-{}", binaries.major(), &key[..16]);
    let root = cache_root()?;
    let template = root.join(&name);
    if template.is_dir() {
        mark_used(&template);
        return Ok(template);
    }
    std::fs::create_dir_all(&root).map_err(|e| {
        StackError::io(format!("creating the template cache {}", root.display()), e)
    })?;
    let lock_path = root.join(format!("{name}.lock"));
    let _lock = tokio::task::spawn_blocking(move || lock(&lock_path))
        .await
        .expect("the lock task does not panic")?;
    // Whoever held the lock before us may have built it.
    if template.is_dir() {
        mark_used(&template);
        return Ok(template);
    }
    let started = Instant::now();
    tracing::info!(template = %template.display(), "building the database template (once per schema)");
    build(binaries, credentials, timeout, &root, &template, app).await?;
    tracing::info!(elapsed = ?started.elapsed(), "database template built");
    prune_stale(&root, &template);
    Ok(template)
}

/// A template's mtime records its last use, for [`prune_stale`].
fn mark_used(template: &Path) {
    let _ = File::open(template).and_then(|dir| dir.set_modified(SystemTime::now()));
}

/// Removes templates of older schemas unused for [`STALE_AFTER`]: each is ~30 MB, and editing a
/// migration makes a new one. Recent ones stay, since another checkout may still use them.
fn prune_stale(root: &Path, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path == keep || !name.starts_with("pg") || !path.is_dir() {
            continue;
        }
        let age = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok());
        if age.is_some_and(|age| age > STALE_AFTER) {
            tracing::info!(template = %path.display(), "removing a template unused for a week");
            let _ = std::fs::remove_dir_all(&path);
            let _ = std::fs::remove_file(root.join(format!("{name}.lock")));
        }
    }
}

/// An exclusive flock, held until the returned file is dropped.
fn lock(path: &Path) -> Result<File, StackError> {
    let file = File::create(path)
        .map_err(|e| StackError::io(format!("creating lock file {}", path.display()), e))?;
    // SAFETY: flock on a descriptor we own; blocks until the other builder is done.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
        let e = std::io::Error::last_os_error();
        return Err(StackError::io(format!("locking {}", path.display()), e));
    }
    Ok(file)
}

async fn build(
    binaries: &PgBinaries,
    credentials: Option<Credentials>,
    timeout: Duration,
    root: &Path,
    template: &Path,
    app: &AppSchema,
) -> Result<(), StackError> {
    // The scratch cluster lives in a temp dir: PostgreSQL's user may not be able to reach the
    // cache (e.g. under /root).
    let scratch = scratch::scratch_dir("supabase-harness-template-")?;
    give_to(scratch.path(), credentials)?;
    let password_file = scratch.path().join("password");
    std::fs::write(&password_file, format!("{PASSWORD}\n"))
        .map_err(|e| StackError::io("writing the initdb password file", e))?;
    give_to(&password_file, credentials)?;
    let data = scratch.path().join("data");
    binaries.initdb(&data, &password_file, credentials).await?;

    let mut cluster =
        Cluster::start(binaries, &data, scratch.path(), credentials, timeout, None).await?;
    apply_schema(&cluster, app).await?;
    tokio::task::spawn_blocking(move || cluster.stop())
        .await
        .expect("stop does not panic");

    // Copy next to the final place (same filesystem), then rename: atomic for other readers.
    // The staging directory is removed on every path out, cancellation included.
    let staging = tempfile::Builder::new()
        .prefix(".partial-")
        .tempdir_in(root)
        .map_err(|e| {
            StackError::io(
                format!("creating a staging directory in {}", root.display()),
                e,
            )
        })?;
    let copied = staging.path().join("data");
    copy_dir(&data, &copied).await?;
    std::fs::rename(&copied, template).map_err(|e| {
        StackError::io(
            format!("moving the template into {}", template.display()),
            e,
        )
    })
}

/// Roles and grants, passwords, the auth schema, then the app's schema.
async fn apply_schema(cluster: &Cluster, app: &AppSchema) -> Result<(), StackError> {
    let sql_err = |step: String| move |source| StackError::TemplateSql { step, source };

    let mut admin = cluster
        .connect(SUPERUSER)
        .await
        .map_err(sql_err(format!("connecting as {SUPERUSER}")))?;
    for file in schema::INIT_SQL {
        sqlx::raw_sql(file.sql)
            .execute(&mut admin)
            .await
            .map_err(sql_err(format!(
                "running db/init/{} as {SUPERUSER}",
                file.name
            )))?;
    }
    for role in LOGIN_ROLES {
        sqlx::raw_sql(&format!("alter role {role} with password '{PASSWORD}'"))
            .execute(&mut admin)
            .await
            .map_err(sql_err(format!("setting the password of {role}")))?;
    }
    if let Some(sql) = app.superuser_preamble() {
        sqlx::raw_sql(sql)
            .execute(&mut admin)
            .await
            .map_err(sql_err(format!("`{sql}` as {SUPERUSER}")))?;
    }
    let _ = admin.close().await;

    let auth_url = format!(
        "postgres://supabase_auth_admin:{PASSWORD}@127.0.0.1:{}/postgres",
        cluster.port()
    );
    auth::migrate(&auth_url)
        .await
        .map_err(|e| StackError::AuthMigrations { source: e.into() })?;

    let mut owner = cluster
        .connect("postgres")
        .await
        .map_err(sql_err("connecting as postgres".to_owned()))?;
    app.apply(&mut owner).await?;
    let _ = owner.close().await;
    Ok(())
}

/// `cp -a`: keeps ownership and the 0700 mode PostgreSQL insists on. Its complaints go to
/// `cp.log` next to `to`.
pub(crate) async fn copy_dir(from: &Path, to: &Path) -> Result<(), StackError> {
    let mut command = Command::new("cp");
    command.arg("-a").arg(from).arg(to);
    let log = to.with_file_name("cp.log");
    let status = ChildProcess::run(command, &log, None).await?;
    if !status.success() {
        return Err(StackError::CommandFailed {
            command: format!("cp -a {} {}", from.display(), to.display()),
            status: status.to_string(),
            output: log_tail(&log),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources() -> Vec<(String, &'static str)> {
        vec![
            ("db/init/00_roles.sql".to_owned(), "create role anon;"),
            ("auth/00".to_owned(), "create table users();"),
            (
                "db/migrations/01.sql".to_owned(),
                "create table sessions();",
            ),
        ]
    }

    #[test]
    fn the_hash_is_stable_for_the_same_inputs() {
        assert_eq!(
            fingerprint("15.10", &sources()),
            fingerprint("15.10", &sources())
        );
    }

    #[test]
    fn the_hash_changes_when_any_sql_changes() {
        let base = fingerprint("15.10", &sources());
        for i in 0..sources().len() {
            let mut changed = sources();
            let edited = format!("{} ", changed[i].1);
            changed[i].1 = Box::leak(edited.into_boxed_str());
            assert_ne!(
                fingerprint("15.10", &changed),
                base,
                "editing {} kept the hash",
                changed[i].0
            );
        }
    }

    #[test]
    fn the_hash_changes_with_the_server_version_order_and_file_set() {
        let base = fingerprint("15.10", &sources());
        assert_ne!(fingerprint("15.11", &sources()), base);
        let mut reordered = sources();
        reordered.swap(0, 2);
        assert_ne!(fingerprint("15.10", &reordered), base);
        let mut added = sources();
        added.push(("db/migrations/02.sql".to_owned(), ""));
        assert_ne!(fingerprint("15.10", &added), base);
    }

    #[test]
    fn only_templates_unused_for_a_week_are_pruned() {
        let root = tempfile::tempdir().unwrap();
        let dir = |name: &str, age_days: u64| {
            let path = root.path().join(name);
            std::fs::create_dir(&path).unwrap();
            let then = SystemTime::now() - Duration::from_secs(age_days * 24 * 60 * 60);
            File::open(&path).unwrap().set_modified(then).unwrap();
            path
        };
        let (old, recent, current) = (
            dir("pg15-old", 8),
            dir("pg15-recent", 2),
            dir("pg15-new", 30),
        );
        let unrelated = dir("something-else", 30);
        prune_stale(root.path(), &current);
        assert!(!old.exists() && recent.exists() && current.exists() && unrelated.exists());
    }

    #[test]
    fn the_embedded_schema_is_hashed() {
        let labels: Vec<String> = schema::all_sources(&AppSchema::Reference)
            .into_iter()
            .map(|(l, _)| l)
            .collect();
        assert!(
            labels.contains(&"db/init/00_roles.sql".to_owned()),
            "{labels:?}"
        );
        assert!(
            labels.iter().any(|l| l.starts_with("db/migrations/")),
            "{labels:?}"
        );
    }
}
