//! The service's log lines as the harness reads them: every line of a request carries its id.
//! A test binary of its own: a thread-scoped tracing subscriber shares callsite caches with
//! whatever else runs in the process, which made this flaky beside other tests.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::Value;
mod common;

use common::{TOKEN, post, serve};
use service::{ROUTE, Stage};

/// Collects what the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// current_thread runtime: the server task runs on this thread, under this subscriber.
#[tokio::test(flavor = "current_thread")]
async fn every_log_line_of_a_request_carries_its_id() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || sink.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let url = format!("{}{ROUTE}", serve(Stage::Reference).await);
    let response = post(
        &url,
        &[("authorization", TOKEN), ("x-request-id", "log-me")],
        "",
    )
    .await;
    assert_eq!(response.status(), 503);

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ours: Vec<&Value> = lines
        .iter()
        .filter(|l| {
            l["target"]
                .as_str()
                .is_some_and(|t| t.starts_with("service") || t.starts_with("tower_http"))
        })
        .collect();
    assert!(
        ours.len() >= 3,
        "expected request, failure and response lines: {text}"
    );
    for line in &ours {
        assert_eq!(line["span"]["request_id"], "log-me", "{line}");
    }
    assert!(
        ours.iter().any(|l| l["fields"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("connection"))),
        "the real cause must be logged: {text}"
    );
}
