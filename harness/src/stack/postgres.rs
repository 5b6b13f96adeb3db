//! PostgreSQL as a private child process: finding the server binaries, creating a cluster,
//! starting it on its own port and socket directory, and stopping it.
//!
//! Each cluster is started with `postgres` directly (not `pg_ctl`), so the harness owns the
//! process, knows its pid and can kill it. Durability is traded for speed (fsync and friends off):
//! a test database that loses data on a power cut costs nothing. PostgreSQL refuses to run as
//! root, so as root the harness runs it as the `postgres` system user.

use std::{
    ffi::{CString, OsString},
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use sqlx::{ConnectOptions, Connection, PgConnection, postgres::PgConnectOptions};

use super::{
    StackError,
    child::{ChildProcess, Credentials, log_tail},
    ports::free_port,
};

/// The bootstrap superuser `initdb` creates, as in the supabase/postgres image.
pub(crate) const SUPERUSER: &str = "supabase_admin";
/// Every login role's password, as with the Supabase CLI.
pub(crate) const PASSWORD: &str = "postgres";

/// A fast shutdown (SIGINT) is well under a second; a stuck one is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// How often to retry when the free port was taken before PostgreSQL could bind it.
const BIND_ATTEMPTS: usize = 3;

/// The directory holding `initdb` and `postgres`, and the server's version.
#[derive(Debug, Clone)]
pub(crate) struct PgBinaries {
    dir: PathBuf,
    /// `postgres --version` output, e.g. "postgres (PostgreSQL) 15.10 (Debian 15.10-1)".
    version: String,
    major: u32,
}

impl PgBinaries {
    /// HARNESS_PG_BIN, else `pg_config --bindir`, else the newest /usr/lib/postgresql/*/bin.
    pub(crate) fn locate() -> Result<Self, StackError> {
        let explicit = std::env::var_os("HARNESS_PG_BIN").filter(|v| !v.is_empty());
        let mut candidates: Vec<PathBuf> = pg_config_bindir().into_iter().collect();
        candidates.extend(debian_bindirs(Path::new("/usr/lib/postgresql")));
        Self::locate_in(explicit, &candidates)
    }

    /// The lookup itself, with its inputs passed in so that its errors can be tested.
    fn locate_in(explicit: Option<OsString>, candidates: &[PathBuf]) -> Result<Self, StackError> {
        if let Some(dir) = explicit {
            let dir = PathBuf::from(dir);
            if let Some(missing) = missing_binary(&dir) {
                return Err(StackError::PgBinDirInvalid { dir, missing });
            }
            return Self::in_dir(dir);
        }
        match candidates.iter().find(|dir| missing_binary(dir).is_none()) {
            Some(dir) => Self::in_dir(dir.clone()),
            None => {
                let mut searched = vec!["HARNESS_PG_BIN (unset)".to_owned()];
                searched.extend(candidates.iter().map(|d| d.display().to_string()));
                searched.push("pg_config --bindir, /usr/lib/postgresql/*/bin".to_owned());
                Err(StackError::PgBinariesNotFound {
                    searched: searched.join(", "),
                })
            }
        }
    }

    fn in_dir(dir: PathBuf) -> Result<Self, StackError> {
        let postgres = dir.join("postgres");
        let output = Command::new(&postgres)
            .arg("--version")
            .output()
            .map_err(|e| StackError::io(format!("running {} --version", postgres.display()), e))?;
        let version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        let major = parse_major(&version).ok_or_else(|| StackError::CommandFailed {
            command: format!("{} --version", postgres.display()),
            status: output.status.to_string(),
            output: format!("unrecognised version output: {version:?}"),
        })?;
        Ok(Self {
            dir,
            version,
            major,
        })
    }

    pub(crate) fn version(&self) -> &str {
        &self.version
    }

    pub(crate) fn major(&self) -> u32 {
        self.major
    }

    /// Creates a cluster in `data_dir` the way the supabase/postgres image does: bootstrap
    /// superuser supabase_admin, UTF8, C locale; trust on the socket, SCRAM over TCP.
    pub(crate) async fn initdb(
        &self,
        data_dir: &Path,
        password_file: &Path,
        credentials: Option<Credentials>,
    ) -> Result<(), StackError> {
        let mut command = Command::new(self.dir.join("initdb"));
        command
            .arg("-D")
            .arg(data_dir)
            .args([
                "-U",
                SUPERUSER,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
            ])
            .arg(format!("--pwfile={}", password_file.display()))
            .args([
                "--encoding=UTF8",
                "--locale=C",
                "--wal-segsize=1",
                "--no-sync",
                "--no-instructions",
            ]);
        let described = format!("initdb -D {}", data_dir.display());
        let log = data_dir.with_file_name("initdb.log");
        let status = ChildProcess::run(command, &log, credentials).await?;
        if !status.success() {
            return Err(StackError::CommandFailed {
                command: described,
                status: status.to_string(),
                output: log_tail(&log),
            });
        }
        Ok(())
    }
}

/// Who PostgreSQL runs as: ourselves, or the `postgres` system user when we are root.
pub(crate) fn server_credentials() -> Result<Option<Credentials>, StackError> {
    // SAFETY: geteuid has no failure mode.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    lookup_user("postgres")
        .map(Some)
        .ok_or(StackError::NoPostgresUser)
}

fn lookup_user(name: &str) -> Option<Credentials> {
    let name = CString::new(name).ok()?;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: getpwnam_r writes into `pwd` and `buf`, both outliving the call.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwnam_r(
            name.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        );
        (rc == 0 && !result.is_null()).then_some(Credentials {
            uid: pwd.pw_uid,
            gid: pwd.pw_gid,
        })
    }
}

/// Hands a directory we created to the user PostgreSQL runs as.
pub(crate) fn give_to(path: &Path, credentials: Option<Credentials>) -> Result<(), StackError> {
    if let Some(Credentials { uid, gid }) = credentials {
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).map_err(|e| {
            StackError::io(format!("chown {} to the postgres user", path.display()), e)
        })?;
    }
    Ok(())
}

fn pg_config_bindir() -> Option<PathBuf> {
    let output = Command::new("pg_config").arg("--bindir").output().ok()?;
    let dir = String::from_utf8(output.stdout).ok()?;
    (output.status.success() && !dir.trim().is_empty()).then(|| PathBuf::from(dir.trim()))
}

/// `<root>/<version>/bin`, newest version first.
fn debian_bindirs(root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut versions: Vec<(u32, PathBuf)> = entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    versions.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
    versions.into_iter().map(|(_, dir)| dir).collect()
}

fn missing_binary(dir: &Path) -> Option<&'static str> {
    ["initdb", "postgres"]
        .into_iter()
        .find(|name| !dir.join(name).is_file())
}

fn parse_major(version: &str) -> Option<u32> {
    let number = version
        .split_whitespace()
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))?;
    number.split('.').next()?.parse().ok()
}

/// A running PostgreSQL server over one data directory.
#[derive(Debug)]
pub(crate) struct Cluster {
    process: ChildProcess,
    port: u16,
    socket_dir: PathBuf,
}

impl Cluster {
    /// Starts `postgres` on `data_dir` with its socket and log (`postgres.log`) in `run_dir`,
    /// on `port` (a restart) or a free one, and waits until it accepts connections.
    pub(crate) async fn start(
        binaries: &PgBinaries,
        data_dir: &Path,
        run_dir: &Path,
        credentials: Option<Credentials>,
        timeout: Duration,
        port: Option<u16>,
    ) -> Result<Self, StackError> {
        let log = run_dir.join("postgres.log");
        let fixed_port = port;
        let mut attempt = 1;
        loop {
            let port = match fixed_port {
                Some(port) => port,
                None => free_port()?,
            };
            let mut command = Command::new(binaries.dir.join("postgres"));
            command
                .arg("-D")
                .arg(data_dir)
                .arg("-k")
                .arg(run_dir)
                .args(["-p", &port.to_string()]);
            for setting in FAST_SETTINGS {
                command.args(["-c", setting]);
            }
            let process =
                ChildProcess::spawn(command, &log, credentials, libc::SIGINT, STOP_GRACE)?;
            let mut cluster = Self {
                process,
                port,
                socket_dir: run_dir.to_path_buf(),
            };
            match cluster.wait_ready(data_dir, timeout).await {
                Err(StackError::PostgresExited { log_tail, .. })
                    if attempt < BIND_ATTEMPTS
                        && log_tail.contains("could not bind")
                        && fixed_port.is_none() =>
                {
                    tracing::debug!(port, "port taken before PostgreSQL bound it; retrying");
                    attempt += 1;
                }
                Err(e) => return Err(e),
                Ok(()) => return Ok(cluster),
            }
        }
    }

    async fn wait_ready(&mut self, data_dir: &Path, timeout: Duration) -> Result<(), StackError> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.process.exited() {
                return Err(StackError::PostgresExited {
                    data_dir: data_dir.to_path_buf(),
                    status: status.to_string(),
                    log_tail: self.process.log_tail(),
                });
            }
            if let Ok(conn) = self.connect(SUPERUSER).await {
                let _ = conn.close().await;
                tracing::debug!(port = self.port, elapsed = ?started.elapsed(), "PostgreSQL ready");
                return Ok(());
            }
            if started.elapsed() > timeout {
                return Err(StackError::PostgresTimeout {
                    data_dir: data_dir.to_path_buf(),
                    waited: timeout,
                    log_tail: self.process.log_tail(),
                });
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Connects as `role` over the Unix socket, where authentication is trust.
    pub(crate) async fn connect(&self, role: &str) -> Result<PgConnection, sqlx::Error> {
        PgConnectOptions::new()
            .socket(&self.socket_dir)
            .port(self.port)
            .username(role)
            .database("postgres")
            .log_statements(tracing::log::LevelFilter::Trace)
            .log_slow_statements(tracing::log::LevelFilter::Off, Duration::MAX)
            .connect()
            .await
    }

    pub(crate) fn process(&mut self) -> &mut ChildProcess {
        &mut self.process
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    pub(crate) fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Fast shutdown, then SIGKILL if it hangs. Blocks for at most the grace period.
    pub(crate) fn stop(&mut self) {
        self.process.stop();
    }
}

/// Settings for a disposable test server.
const FAST_SETTINGS: &[&str] = &[
    "listen_addresses=127.0.0.1",
    "fsync=off",
    // Not off: a killed server would lose commits it had acknowledged, and the fault
    // scenarios prove that acknowledged writes survive a crash. fsync=off is safe for that
    // (the kernel keeps the written pages); it only gambles on the machine itself.
    "synchronous_commit=on",
    "full_page_writes=off",
    "shared_buffers=32MB",
    "max_connections=100",
    // With 1 MB segments (see initdb) this keeps the copied pg_wal small.
    "min_wal_size=4MB",
    "jit=off",
    "logging_collector=off",
    "huge_pages=off",
    // Segments live in the data directory, so even a killed server leaves nothing in /dev/shm.
    "dynamic_shared_memory_type=mmap",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_binaries_say_how_to_install_them() {
        let empty = tempfile::tempdir().unwrap();
        let err = PgBinaries::locate_in(None, &[empty.path().to_path_buf()]).unwrap_err();
        let message = err.to_string();
        assert!(
            matches!(err, StackError::PgBinariesNotFound { .. }),
            "{message}"
        );
        assert!(
            message.contains("apt-get install postgresql-15"),
            "{message}"
        );
        assert!(message.contains("HARNESS_PG_BIN"), "{message}");
        assert!(
            message.contains(&empty.path().display().to_string()),
            "{message}"
        );
    }

    #[test]
    fn a_wrong_harness_pg_bin_names_the_missing_program() {
        let empty = tempfile::tempdir().unwrap();
        let err = PgBinaries::locate_in(Some(empty.path().into()), &[]).unwrap_err();
        let message = err.to_string();
        assert!(
            matches!(
                err,
                StackError::PgBinDirInvalid {
                    missing: "initdb",
                    ..
                }
            ),
            "{message}"
        );
        assert!(message.contains(&format!("HARNESS_PG_BIN={}", empty.path().display())));
    }

    #[test]
    fn versions_parse_to_their_major() {
        assert_eq!(
            parse_major("postgres (PostgreSQL) 15.10 (Debian 15.10-1.pgdg120+1)"),
            Some(15)
        );
        assert_eq!(parse_major("postgres (PostgreSQL) 17.2"), Some(17));
        assert_eq!(parse_major("garbage"), None);
    }

    #[test]
    fn debian_layout_lists_newest_first() {
        let root = tempfile::tempdir().unwrap();
        for v in ["13", "15", "9", "notaversion"] {
            std::fs::create_dir_all(root.path().join(v).join("bin")).unwrap();
        }
        let dirs = debian_bindirs(root.path());
        let versions: Vec<_> = dirs
            .iter()
            .map(|d| d.parent().unwrap().file_name().unwrap())
            .collect();
        assert_eq!(versions, ["15", "13", "9"]);
    }
}
