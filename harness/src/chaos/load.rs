//! The clients of a chaos run: closed loops of one request (`POST /api/session/create` by
//! default), each as its own user, recording every answer (status, body, time) until told to stop.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::run::invariants::{RequestRecord, Subject};

/// One request as a client sent it and saw its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The client (and so the user) that sent it, from 0.
    pub client: usize,
    /// When it was sent, from the start of the load.
    pub at: Duration,
    pub elapsed: Duration,
    /// `None` when no answer came.
    pub status: Option<u16>,
    pub body: String,
    /// Why no answer came.
    pub error: Option<String>,
}

impl Record {
    /// When the answer (or the failure) came, from the start of the load.
    pub fn end(&self) -> Duration {
        self.at + self.elapsed
    }

    /// Whether the service said it did what was asked (a 2xx).
    pub fn succeeded(&self) -> bool {
        self.status
            .is_some_and(|status| (200..300).contains(&status))
    }

    /// The `id_field` (`sessionId` for the reference) of a success: a write the service
    /// acknowledged.
    pub fn acknowledged(&self, id_field: &str) -> Option<String> {
        self.as_request_record(0, "").acknowledged_id(id_field)
    }

    /// The record as the scenario invariants take it, numbered `number` from 1, answered by
    /// `stage`.
    pub fn as_request_record(&self, number: usize, stage: &str) -> RequestRecord {
        RequestRecord {
            step: number,
            step_name: format!("client {}", self.client),
            subject: Subject::Stage(stage.to_owned()),
            at: self.at,
            elapsed: self.elapsed,
            status: self.status,
            body: self.body.clone(),
            error: self.error.clone(),
            active: Vec::new(),
        }
    }
}

/// Where the clients send their requests, with which tokens (one per client).
#[derive(Debug, Clone)]
pub struct Load {
    /// `{reference}/api/session/create` by default.
    pub url: String,
    pub method: reqwest::Method,
    /// Sent as JSON when present.
    pub body: Option<serde_json::Value>,
    pub tokens: Vec<String>,
    /// The HTTP client's own timeout: a request past it is recorded with no answer.
    pub request_timeout: Duration,
}

impl Load {
    /// Runs one loop per token until `stop` is set; the records of every client, by send time.
    ///
    /// The loops get a runtime of their own on their own threads (as `harness bench` does): the
    /// service's stages and the fault schedule run on the caller's runtime, and clients queued
    /// behind them would time the scheduler rather than the service.
    pub async fn run(&self, start: Instant, stop: Arc<AtomicBool>) -> Vec<Record> {
        let load = self.clone();
        crate::bench::load::on_own_runtime(async move { load.run_clients(start, stop).await }).await
    }

    async fn run_clients(self, start: Instant, stop: Arc<AtomicBool>) -> Vec<Record> {
        let clients: Vec<_> = self
            .tokens
            .iter()
            .enumerate()
            .map(|(client, token)| {
                let one = OneClient {
                    client,
                    url: self.url.clone(),
                    method: self.method.clone(),
                    body: self.body.clone(),
                    token: token.clone(),
                    timeout: self.request_timeout,
                };
                tokio::spawn(one.run(start, Arc::clone(&stop)))
            })
            .collect();
        let mut records = Vec::new();
        for client in clients {
            records.extend(client.await.expect("a chaos client does not panic"));
        }
        records.sort_by_key(|record| record.at);
        records
    }
}

struct OneClient {
    client: usize,
    url: String,
    method: reqwest::Method,
    body: Option<serde_json::Value>,
    token: String,
    timeout: Duration,
}

impl OneClient {
    async fn run(self, start: Instant, stop: Arc<AtomicBool>) -> Vec<Record> {
        let http = reqwest::Client::builder()
            .timeout(self.timeout)
            .pool_max_idle_per_host(1)
            .build()
            .expect("a default reqwest client builds");
        let mut records = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            let at = start.elapsed();
            let sent = Instant::now();
            let mut request = http
                .request(self.method.clone(), &self.url)
                .bearer_auth(&self.token);
            if let Some(body) = &self.body {
                request = request.json(body);
            }
            let answer = request.send().await;
            let (status, body, error) = match answer {
                Ok(response) => {
                    let status = response.status().as_u16();
                    // Read the whole body: the next request reuses the connection.
                    match response.text().await {
                        Ok(body) => (Some(status), body, None),
                        Err(e) => (Some(status), String::new(), Some(format!("body: {e}"))),
                    }
                }
                Err(e) => (None, String::new(), Some(error_chain(&e))),
            };
            let failed = !status.is_some_and(|status| (200..300).contains(&status));
            records.push(Record {
                client: self.client,
                at,
                elapsed: sent.elapsed(),
                status,
                body,
                error,
            });
            if failed {
                // A refusing service answers fast; do not spin on it.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        records
    }
}

/// reqwest's message and its causes: "error sending request: connection refused".
fn error_chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
