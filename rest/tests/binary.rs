//! The `rest` binary as the harness runs it: refuses bad configuration and a taken port
//! with a clear stderr line and a non-zero exit; stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn rest(env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rest"));
    cmd.env_clear()
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

fn refuses(env: &[(&str, &str)], needle: &str) {
    let out = rest(env).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{env:?} started");
    assert!(
        stderr.contains(needle),
        "{env:?}: stderr {stderr:?} lacks {needle:?}"
    );
}

#[test]
fn bad_configuration_refuses_to_start() {
    refuses(&[("PGRST_DB_POOL", "many")], "PGRST_DB_POOL");
    refuses(&[("PGRST_JWT_SECRET", "short")], "PGRST_JWT_SECRET");
    refuses(
        &[("PGRST_DB_PRE_REQUEST", "public.check")],
        "PGRST_DB_PRE_REQUEST",
    );
}

#[test]
fn a_taken_port_refuses_to_start() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    refuses(
        &[
            ("PGRST_SERVER_HOST", "127.0.0.1"),
            ("PGRST_SERVER_PORT", &port),
        ],
        "cannot listen on 127.0.0.1",
    );
}

#[test]
fn serves_then_stops_on_sigterm() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead_db = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let admin = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let uri = format!("postgres://authenticator:x@127.0.0.1:{dead_db}/postgres");
    let port_s = port.to_string();
    let admin_s = admin.to_string();
    let mut child = rest(&[
        ("PGRST_SERVER_HOST", "127.0.0.1"),
        ("PGRST_SERVER_PORT", &port_s),
        ("PGRST_DB_URI", &uri),
        ("PGRST_DB_ANON_ROLE", "anon"),
        ("PGRST_ADMIN_SERVER_PORT", &admin_s),
    ])
    .spawn()
    .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.contains("listening on 127.0.0.1"), "{line}");

    // No database: the schema cache cannot load, and the server says so (503 PGRST002).
    let response = get(port, "/authors");
    assert!(response.starts_with("HTTP/1.1 503"), "{response}");
    // The admin server: alive, not ready.
    assert!(get(admin, "/live").starts_with("HTTP/1.1 200"));
    assert!(get(admin, "/ready").starts_with("HTTP/1.1 503"));
    assert!(get(admin, "/other").starts_with("HTTP/1.1 404"));
    assert!(
        response.contains("PGRST002") && response.to_ascii_lowercase().contains("retry-after: 0"),
        "{response}"
    );

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    loop {
        if let Some(code) = child.try_wait().unwrap() {
            assert!(code.success(), "exit {code:?}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "still running 5 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn get(port: u16, path: &str) -> String {
    let mut conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    response
}
