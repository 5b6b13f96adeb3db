//! The service under test's lifecycle with real processes (`tests/fixtures/services/`):
//! readiness by URL, log line and TCP; a crash and a timeout reported with the output; cleanup on
//! stop, on drop and on panic, of a family that ignores SIGTERM, with the port free afterwards;
//! env templates and presets; output lines attributed to a time window.

use std::{
    net::{Ipv4Addr, TcpStream},
    path::PathBuf,
    time::{Duration, Instant},
};

use harness::{
    app::{AppError, PortChoice, RunningService, ServiceSpec, StackValues, StartOptions},
    project::Project,
};

fn spec(name: &str) -> ServiceSpec {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/services");
    let project = Project::load(&dir).unwrap_or_else(|e| panic!("{e}"));
    project
        .service(name)
        .unwrap_or_else(|| panic!("no service {name}"))
        .clone()
}

fn values() -> StackValues {
    StackValues::new(
        [
            ("API_URL", "http://127.0.0.1:9/api"),
            ("ANON_KEY", "anon-key"),
            ("SERVICE_ROLE_KEY", "service-role-key"),
            ("JWT_SECRET", "secret"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    )
}

fn options(dir: &tempfile::TempDir, name: &str) -> StartOptions {
    StartOptions::new(dir.path().join(format!("{name}.log")))
}

async fn start(name: &str, logs: &tempfile::TempDir) -> Result<RunningService, AppError> {
    spec(name).start(&values(), options(logs, name)).await
}

fn listening(port: u16) -> bool {
    TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok()
}

/// Processes of group `group` that have not exited, read from /proc.
fn live_members(group: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let mut fields = stat[stat.rfind(')')? + 2..].split(' ');
            let state = fields.next()?;
            let pgrp: u32 = fields.nth(1)?.parse().ok()?;
            (pgrp == group && state != "Z").then_some(pid)
        })
        .collect()
}

#[tokio::test]
async fn ready_by_url_then_stopped_with_its_port_free() {
    let logs = tempfile::tempdir().unwrap();
    let service = start("http", &logs).await.unwrap();
    let url = service.url().unwrap();
    let response = reqwest::get(format!("{url}/")).await.unwrap();
    assert_eq!(response.status(), 200);
    let (port, group) = (service.port().unwrap(), service.pid());
    service.stop().await.unwrap();
    assert!(!listening(port));
    assert!(live_members(group).is_empty());
}

#[tokio::test]
async fn ready_by_a_log_line_with_every_line_kept_and_logged() {
    let logs = tempfile::tempdir().unwrap();
    let service = start("logline", &logs).await.unwrap();
    let lines: Vec<String> = service
        .output()
        .lines()
        .into_iter()
        .map(|l| l.text)
        .collect();
    assert_eq!(lines, ["booting", "listening now"]);
    let log = std::fs::read_to_string(service.output().log_path()).unwrap();
    assert!(
        log.lines()
            .nth(1)
            .unwrap()
            .ends_with(" stdout listening now"),
        "{log}"
    );
    service.stop().await.unwrap();
}

#[tokio::test]
async fn ready_by_tcp() {
    let logs = tempfile::tempdir().unwrap();
    let service = start("tcp", &logs).await.unwrap();
    assert!(listening(service.port().unwrap()));
    service.stop().await.unwrap();
}

#[tokio::test]
async fn a_crash_at_start_is_reported_with_its_output_at_once() {
    let logs = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let error = start("crash", &logs).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "not within its timeout"
    );
    assert!(
        matches!(error, AppError::ExitedBeforeReady { .. }),
        "{error}"
    );
    let text = error.to_string();
    assert!(
        text.contains("service `crash` exited (exit status: 3)"),
        "{text}"
    );
    assert!(
        text.contains("before it was ready; it was waited on for: GET http://localhost:"),
        "{text}"
    );
    assert!(text.contains("stdout | loading config"), "{text}");
    assert!(
        text.contains("stderr | fatal: SUPABASE_URL is not set"),
        "{text}"
    );
}

#[tokio::test]
async fn a_service_that_never_gets_ready_times_out_with_what_it_waited_for() {
    let logs = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let error = start("never", &logs).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(700) && elapsed < Duration::from_secs(10),
        "{elapsed:?}"
    );
    let text = error.to_string();
    assert!(
        text.contains("service `never` was not ready within 700ms"),
        "{text}"
    );
    assert!(
        text.contains("a line of its output matching /compiled successfully/"),
        "{text}"
    );
    assert!(text.contains("stdout | still compiling"), "{text}");
}

#[tokio::test]
async fn a_family_that_ignores_sigterm_is_killed_after_stop_timeout() {
    let logs = tempfile::tempdir().unwrap();
    let service = start("stubborn", &logs).await.unwrap();
    let (port, group) = (service.port().unwrap(), service.pid());
    assert!(live_members(group).len() >= 2, "sh and its server");
    let stopping = Instant::now();
    service.stop().await.unwrap();
    let took = stopping.elapsed();
    assert!(
        took >= Duration::from_millis(300),
        "SIGKILL came before stop_timeout: {took:?}"
    );
    assert!(live_members(group).is_empty());
    assert!(!listening(port));
}

#[tokio::test]
async fn dropping_a_service_stops_it() {
    let logs = tempfile::tempdir().unwrap();
    let service = start("http", &logs).await.unwrap();
    let (port, group) = (service.port().unwrap(), service.pid());
    drop(service);
    assert!(live_members(group).is_empty());
    assert!(!listening(port));
}

#[test]
fn a_panicking_test_stops_its_service() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let seen = std::sync::Mutex::new(None);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(async {
            let service = start("http", &logs).await.unwrap();
            *seen.lock().unwrap() = Some((service.port().unwrap(), service.pid()));
            panic!("the test fails while its service runs");
        })
    }));
    assert!(outcome.is_err());
    let (port, group) = seen.lock().unwrap().expect("the service had started");
    assert!(live_members(group).is_empty());
    assert!(!listening(port));
}

#[tokio::test]
async fn a_service_that_dies_by_itself_is_noticed_with_its_last_words() {
    let logs = tempfile::tempdir().unwrap();
    let mut service = start("dies-later", &logs).await.unwrap();
    assert!(service.check().is_ok());
    tokio::time::sleep(Duration::from_millis(800)).await;
    let error = service.check().unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("service `dies-later` exited by itself (exit status: 137)"),
        "{text}"
    );
    assert!(text.contains("stderr | out of memory"), "{text}");
}

#[tokio::test]
async fn env_is_clean_templated_and_preset_with_explicit_values_winning() {
    let logs = tempfile::tempdir().unwrap();
    let service = start("env", &logs).await.unwrap();
    let lines: Vec<String> = service
        .output()
        .lines()
        .into_iter()
        .map(|l| l.text)
        .collect();
    let has = |line: &str| lines.iter().any(|l| l == line);
    assert!(
        has("NEXT_PUBLIC_SUPABASE_URL=http://127.0.0.1:9/api"),
        "{lines:#?}"
    );
    assert!(
        has("SUPABASE_SERVICE_ROLE_KEY=service-role-key"),
        "{lines:#?}"
    );
    assert!(
        has("NEXT_PUBLIC_SUPABASE_ANON_KEY=explicit wins over the preset"),
        "{lines:#?}"
    );
    assert!(
        has("MY_REST_URL=http://127.0.0.1:9/api/rest/v1"),
        "{lines:#?}"
    );
    assert!(has("PYTHONUNBUFFERED=1"), "{lines:#?}");
    assert!(has("CARGO_PKG_NAME=harness"), "inherit_env: {lines:#?}");
    assert!(lines.iter().any(|l| l.starts_with("PATH=")), "{lines:#?}");
    // Not provided by this stack: left unset, not set to nothing.
    assert!(
        !lines
            .iter()
            .any(|l| l.starts_with("NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY")),
        "{lines:#?}"
    );
    // Not inherited: the harness's own environment stays out.
    assert!(
        !lines.iter().any(|l| l.starts_with("CARGO_MANIFEST_DIR=")),
        "{lines:#?}"
    );
    assert!(!lines.iter().any(|l| l.starts_with("PORT=")), "{lines:#?}");
    service.stop().await.unwrap();
}

#[tokio::test]
async fn a_template_name_the_stack_lacks_is_an_error_before_anything_starts() {
    let logs = tempfile::tempdir().unwrap();
    let error = start("needs-secret", &logs).await.unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("service `needs-secret`: env KEY uses {{SECRET_KEY}}"),
        "{text}"
    );
}

#[tokio::test]
async fn a_fixed_port_already_taken_is_refused_naming_its_holder() {
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut taken = spec("http");
    taken.port = PortChoice::Fixed(port);
    let logs = tempfile::tempdir().unwrap();
    let error = taken
        .start(&values(), options(&logs, "http"))
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains(&format!(
            "port {port} is already in use by pid {}",
            std::process::id()
        )),
        "{text}"
    );
}

#[tokio::test]
async fn output_lines_are_attributed_to_the_window_they_arrived_in() {
    let logs = tempfile::tempdir().unwrap();
    let service = start("http", &logs).await.unwrap();
    // Lines are stamped when the reader thread gets them, which on a loaded machine can be
    // tens of milliseconds after they were printed: let the readiness probe's line arrive.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = Instant::now();
    reqwest::get(format!("{}/window-marker", service.url().unwrap()))
        .await
        .unwrap();
    // The reader thread needs a moment to see the request's log line.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = Instant::now();
    let inside: Vec<String> = service
        .output()
        .between(before, after)
        .into_iter()
        .map(|l| l.text)
        .collect();
    assert_eq!(inside.len(), 2, "{inside:?}");
    assert!(
        inside[0].ends_with("code 404, message File not found"),
        "{inside:?}"
    );
    assert!(
        inside[1].contains("\"GET /window-marker HTTP/1.1\" 404"),
        "{inside:?}"
    );
    let earlier: Vec<String> = service
        .output()
        .between(before - Duration::from_secs(60), before)
        .into_iter()
        .map(|l| l.text)
        .collect();
    assert!(
        earlier.iter().all(|l| !l.contains("window-marker")),
        "{earlier:?}"
    );
    assert!(
        earlier
            .iter()
            .any(|l| l.starts_with("Serving HTTP on 127.0.0.1")),
        "{earlier:?}"
    );
    service.stop().await.unwrap();
}
