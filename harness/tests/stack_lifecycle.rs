//! Stacks start side by side, answer on their own ports, and leave nothing behind: not on drop,
//! not on a panic, not when `harness up` is interrupted.

use std::{
    io::{BufRead, BufReader},
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use harness::Stack;
use sqlx::{Connection, PgConnection};

fn alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid as libc::pid_t, 0) == 0 }
}

fn port_of(url: &str) -> u16 {
    let after_host = url.rsplit_once("127.0.0.1:").expect("a 127.0.0.1 URL").1;
    after_host
        .split(['/', '?'])
        .next()
        .unwrap()
        .parse()
        .expect("a port")
}

async fn assert_answers(stack: &Stack) {
    let mut conn = PgConnection::connect(stack.db_url())
        .await
        .expect("PostgreSQL answers");
    let one: i32 = sqlx::query_scalar("select 1")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(one, 1);
    let health = reqwest::get(format!("{}/health", stack.auth_url()))
        .await
        .expect("auth answers");
    assert_eq!(health.status(), 200);
}

/// What `harness up --output env` prints and `Stack::env()` returns, in order.
/// `supabase status -o env`'s order (PUBLISHABLE_KEY and SECRET_KEY before the deprecated
/// three), then the harness's own.
const ENV_KEYS: [&str; 19] = [
    "API_URL",
    "REST_URL",
    "DB_URL",
    "AUTH_URL",
    "PUBLISHABLE_KEY",
    "SECRET_KEY",
    "JWT_SECRET",
    "ANON_KEY",
    "SERVICE_ROLE_KEY",
    "FAULTS_URL",
    "STAGE_ROUTE_MISSING_URL",
    "STAGE_COOKIE_FIRST_URL",
    "STAGE_ANON_CLIENT_URL",
    "STAGE_DEBRIEF_FINAL_URL",
    "STAGE_REFERENCE_URL",
    "STAGE_REFERENCE_LOCAL_URL",
    "STAGE_REFERENCE_CLAIMS_URL",
    "STAGE_SECRET_ONLY_URL",
    "STAGE_HAND_ROLLED_JWKS_URL",
];

#[tokio::test]
async fn two_stacks_run_side_by_side_on_their_own_ports() {
    let (first, second) = tokio::join!(Stack::start(), Stack::start());
    let (first, second) = (first.expect("first stack"), second.expect("second stack"));
    assert_ne!(port_of(first.db_url()), port_of(second.db_url()));
    assert_ne!(first.auth_url(), second.auth_url());
    assert_ne!(first.dir(), second.dir());
    assert_answers(&first).await;
    assert_answers(&second).await;
    first.stop().await.unwrap();
    // One stack stopping leaves the other untouched.
    assert_answers(&second).await;
}

#[tokio::test]
async fn the_values_are_the_supabase_cli_ones() {
    let stack = Stack::builder()
        .jwt_exp(60)
        .start()
        .await
        .expect("stack starts");
    let port = port_of(stack.db_url());
    assert_eq!(
        stack.db_url(),
        format!("postgres://supabase_admin:postgres@127.0.0.1:{port}/postgres")
    );
    assert_eq!(
        stack.authenticator_db_url(),
        format!("postgres://authenticator:postgres@127.0.0.1:{port}/postgres")
    );
    assert!(!stack.auth_url().ends_with('/'));
    assert_eq!(
        stack.jwt_secret(),
        "super-secret-jwt-token-with-at-least-32-characters-long"
    );
    let env = stack.env();
    let keys: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ENV_KEYS);
    let value = |name: &str| &env[ENV_KEYS.iter().position(|k| *k == name).unwrap()].1;
    assert_eq!(
        value("DB_URL"),
        stack.db_url(),
        "DB_URL is the superuser's, for inspection"
    );
    assert_eq!(value("ANON_KEY"), stack.anon_key());
    assert_eq!(
        value("PUBLISHABLE_KEY"),
        "sb_publishable_ACJWlzQHlZjBrEguHvfOxg_3BJgxAaH"
    );
    assert_eq!(
        value("SECRET_KEY"),
        "sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz"
    );
    assert_eq!(value("API_URL"), stack.api_url(), "API_URL is the gateway");
    assert_eq!(value("REST_URL"), &format!("{}/rest/v1", stack.api_url()));
    assert_ne!(value("API_URL"), value("STAGE_REFERENCE_URL"));
    assert!(
        value("FAULTS_URL").starts_with("http://127.0.0.1:"),
        "FAULTS_URL: {}",
        value("FAULTS_URL")
    );
}

#[tokio::test]
async fn a_legacy_stack_prints_no_opaque_keys() {
    let stack = Stack::builder()
        .keys(harness::signing::KeyProfile::Legacy)
        .start()
        .await
        .expect("stack starts");
    let names: Vec<String> = stack.env().into_iter().map(|(name, _)| name).collect();
    let expected: Vec<&str> = ENV_KEYS
        .into_iter()
        .filter(|name| !["PUBLISHABLE_KEY", "SECRET_KEY"].contains(name))
        .collect();
    assert_eq!(names, expected);
    assert_eq!((stack.publishable_key(), stack.secret_key()), (None, None));
    stack.stop().await.expect("the stack stops");
}

#[tokio::test]
async fn dropping_a_stack_stops_its_processes_and_removes_its_directory() {
    let stack = Stack::start().await.expect("stack starts");
    let (pg, auth, rest, dir) = (
        stack.postgres_pid().unwrap(),
        stack.auth_pid().unwrap(),
        stack.rest_pid().unwrap(),
        stack.dir().to_path_buf(),
    );
    assert!(alive(pg) && alive(auth) && alive(rest) && dir.is_dir());
    drop(stack);
    assert!(!alive(pg), "postgres {pg} survived the drop");
    assert!(!alive(auth), "auth server {auth} survived the drop");
    assert!(!alive(rest), "data API {rest} survived the drop");
    assert!(!dir.exists(), "{} survived the drop", dir.display());
}

#[tokio::test]
async fn stop_is_graceful_and_complete() {
    let stack = Stack::start().await.expect("stack starts");
    let (pg, auth, rest, dir) = (
        stack.postgres_pid().unwrap(),
        stack.auth_pid().unwrap(),
        stack.rest_pid().unwrap(),
        stack.dir().to_path_buf(),
    );
    let log = stack.postgres_log();
    let log_text_before = std::fs::read_to_string(&log).unwrap();
    assert!(
        log_text_before.contains("ready to accept connections"),
        "{log_text_before}"
    );
    stack.stop().await.expect("stop");
    assert!(!alive(pg) && !alive(auth) && !alive(rest));
    assert!(!dir.exists());
}

#[test]
fn a_panicking_test_still_cleans_up() {
    let (tx, rx) = std::sync::mpsc::channel();
    let outcome = std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let stack = Stack::start().await.expect("stack starts");
            tx.send((
                stack.postgres_pid().unwrap(),
                stack.auth_pid().unwrap(),
                stack.rest_pid().unwrap(),
                stack.dir().to_path_buf(),
            ))
            .unwrap();
            panic!("a failing assertion while the stack is up");
        })
    })
    .join();
    assert!(outcome.is_err(), "the thread panicked");
    let (pg, auth, rest, dir) = rx.recv().expect("the stack had started");
    assert!(!alive(pg), "postgres {pg} survived the panic");
    assert!(!alive(auth), "auth server {auth} survived the panic");
    assert!(!alive(rest), "data API {rest} survived the panic");
    assert!(!dir.exists(), "{} survived the panic", dir.display());
}

#[test]
fn a_stack_outlives_the_thread_and_runtime_that_started_it() {
    // E.g. a stack shared by tests through a static, started by whichever test came first.
    let stack = std::thread::spawn(|| {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(Stack::start()).expect("stack starts")
    })
    .join()
    .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        alive(stack.postgres_pid().unwrap()),
        "postgres died with the thread that started it"
    );
    assert!(
        alive(stack.auth_pid().unwrap()),
        "the auth server died with the thread that started it"
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(assert_answers(&stack));
    let (pg, dir) = (stack.postgres_pid().unwrap(), stack.dir().to_path_buf());
    drop(stack);
    assert!(!alive(pg) && !dir.exists());
}

/// Processes whose command line mentions `needle` (the postmaster's has its data directory).
fn processes_mentioning(needle: &Path) -> Vec<String> {
    pids_mentioning(needle)
        .into_iter()
        .map(|(_, cmdline)| cmdline)
        .collect()
}

/// (pid, command line) of every process whose command line mentions `needle`.
fn pids_mentioning(needle: &Path) -> Vec<(u32, String)> {
    let needle = needle.display().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let pid = path.file_name()?.to_str()?.parse::<u32>().ok()?;
            let cmdline = std::fs::read(path.join("cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            cmdline.contains(&needle).then_some((pid, cmdline))
        })
        .collect()
}

/// No process runs from `tmp` and nothing is left in it.
fn assert_nothing_left_in(tmp: &Path) {
    assert_eq!(
        processes_mentioning(tmp),
        Vec::<String>::new(),
        "processes left behind"
    );
    let left: Vec<PathBuf> = std::fs::read_dir(tmp)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(left.is_empty(), "files left in TMPDIR: {left:?}");
}

/// Kills the child if the test fails before it exits, so a failed assertion leaves no `harness up`.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            // SAFETY: signalling our own child; SIGINT lets it stop its stack.
            unsafe { libc::kill(self.0.id() as libc::pid_t, libc::SIGINT) };
            let _ = self.0.wait();
        }
    }
}

#[tokio::test]
async fn harness_up_prints_env_and_cleans_up_on_sigint() {
    // A private TMPDIR, reachable by the postgres user when we run as root, shows what is left.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_harness"))
            .args(["up", "--output", "env"])
            .env("TMPDIR", tmp.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("run harness up"),
    );

    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let mut env = Vec::new();
    for _ in 0..ENV_KEYS.len() {
        let line = lines
            .next()
            .expect("harness up printed a line per key")
            .unwrap();
        let (key, value) = line.split_once('=').expect("KEY=VALUE");
        env.push((key.to_owned(), value.to_owned()));
    }
    let keys: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ENV_KEYS);
    let value = |name: &str| {
        env[ENV_KEYS.iter().position(|k| *k == name).unwrap()]
            .1
            .clone()
    };
    let (db_url, auth_url) = (value("DB_URL"), value("AUTH_URL"));
    let (api_url, reference_url) = (value("API_URL"), value("STAGE_REFERENCE_URL"));

    let mut conn = PgConnection::connect(&db_url)
        .await
        .expect("DB_URL connects");
    let user: String = sqlx::query_scalar("select current_user::text")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        user, "supabase_admin",
        "DB_URL is the superuser's, for inspection"
    );
    conn.close().await.unwrap();
    let health = reqwest::get(format!("{auth_url}/health"))
        .await
        .expect("AUTH_URL answers");
    assert_eq!(health.status(), 200);
    // The project URL: the gateway, keyed as Kong is.
    let keyless = reqwest::get(format!("{api_url}/rest/v1/sessions"))
        .await
        .expect("API_URL answers");
    assert_eq!(keyless.status(), 401);
    assert_eq!(keyless.headers()["server"], "kong/2.8.1");
    let unauthenticated = reqwest::Client::new()
        .post(format!("{reference_url}/api/session/create"))
        .send()
        .await
        .expect("STAGE_REFERENCE_URL answers");
    assert_eq!(
        unauthenticated.status(),
        401,
        "the reference stage wants a Bearer token"
    );
    let stack_dirs: Vec<PathBuf> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(
        stack_dirs.len(),
        1,
        "one stack directory under TMPDIR: {stack_dirs:?}"
    );
    assert!(
        !processes_mentioning(tmp.path()).is_empty(),
        "the postmaster runs from TMPDIR"
    );

    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.0.id() as libc::pid_t, libc::SIGINT) };
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "harness up did not exit within 20 s of SIGINT"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "harness up exited with {status}");
    assert_nothing_left_in(tmp.path());
    assert!(
        PgConnection::connect(&db_url).await.is_err(),
        "PostgreSQL still answers"
    );
    assert!(
        reqwest::get(format!("{auth_url}/health")).await.is_err(),
        "the auth server still answers"
    );
}

#[tokio::test]
async fn an_auth_server_that_dies_is_reported_with_its_output() {
    // `sleep` without an operand exits at once, complaining on stderr.
    let err = Stack::builder()
        .auth_server_bin("/bin/sleep")
        .start()
        .await
        .expect_err("a dead auth server fails the start");
    let message = err.to_string();
    assert!(
        message.contains("the auth server `/bin/sleep` exited before it was healthy"),
        "{message}"
    );
    assert!(
        message.contains("missing operand"),
        "the log tail is quoted: {message}"
    );
}

#[test]
fn harness_up_reports_a_failed_start_and_leaves_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["up", "--output", "env"])
        .env("TMPDIR", tmp.path())
        .env("HARNESS_AUTH_BIN", "/bin/false")
        .output()
        .expect("run harness up");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        output.stdout.is_empty(),
        "nothing on stdout when nothing started"
    );
    assert!(
        stderr.contains("the auth server `/bin/false` exited before it was healthy"),
        "{stderr}"
    );
    assert_nothing_left_in(tmp.path());
}

#[test]
fn harness_up_interrupted_while_starting_exits_0_and_leaves_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["up", "--output", "env"])
        .env("TMPDIR", tmp.path())
        .stdout(Stdio::null())
        .spawn()
        .expect("run harness up");
    // Most likely mid-boot (copying or starting PostgreSQL); either way the outcome is the same.
    std::thread::sleep(Duration::from_millis(150));
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert!(status.success(), "harness up exited with {status}");
    assert_nothing_left_in(tmp.path());
}

#[test]
fn harness_up_says_when_postgres_dies_under_it() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_harness"))
            .args(["up", "--output", "env"])
            .env("TMPDIR", tmp.path())
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run harness up"),
    );
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.starts_with("API_URL="), "{first}");

    let (postmaster, _) = pids_mentioning(tmp.path())
        .into_iter()
        .find(|(_, cmdline)| cmdline.contains("/postgres -D"))
        .expect("the postmaster runs from TMPDIR");
    // SAFETY: killing the PostgreSQL server this test's own `harness up` started.
    unsafe { libc::kill(postmaster as libc::pid_t, libc::SIGKILL) };

    let stderr = BufReader::new(child.0.stderr.take().unwrap());
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    let report = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = received
            .recv_timeout(left)
            .expect("harness up reports the dead server within 10 s");
        if line.contains("exited unexpectedly") {
            break line;
        }
    };
    assert!(
        report.contains(&format!(
            "PostgreSQL (pid {postmaster}) exited unexpectedly"
        )),
        "{report}"
    );

    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.0.id() as libc::pid_t, libc::SIGINT) };
    let status = child.0.wait().unwrap();
    assert!(status.success(), "harness up exited with {status}");
    assert_nothing_left_in(tmp.path());
}
