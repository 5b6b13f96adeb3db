//! A closed-loop load generator on reqwest, the HTTP client the harness already uses: each of N
//! clients sends its next request as soon as the previous answer arrived, for a fixed time.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::stats::Latencies;

/// Named in the output, so a reader knows what produced the figures.
pub const LOAD_GENERATOR: &str = "closed-loop reqwest 0.12 load loop in the harness, on its own runtime (keep-alive, one connection per client)";

/// One request a load loop sends over and over.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: reqwest::Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// The status a correct answer has; anything else counts as an error.
    pub expect: u16,
}

/// What N clients achieved in the time given.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadFigures {
    pub clients: usize,
    pub requests: u64,
    pub errors: u64,
    pub requests_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// The first unexpected answer, verbatim, so an error count is never a mystery.
    pub first_error: Option<String>,
}

/// Runs `clients` loops for `duration`; latencies count only correct answers.
///
/// The loops get a runtime of their own on their own threads: the service's stages are served
/// on the harness's runtime, and clients queued behind the server's tasks (or the reverse) would
/// measure the scheduler rather than the service.
pub async fn run(request: &Request, clients: usize, duration: Duration) -> LoadFigures {
    let request = request.clone();
    on_own_runtime(async move { run_clients(&request, clients, duration).await }).await
}

/// Runs `load` on a two-thread runtime of its own, on threads of its own, and waits for it.
pub(crate) async fn on_own_runtime<T: Send + 'static>(
    load: impl Future<Output = T> + Send + 'static,
) -> T {
    tokio::task::spawn_blocking(move || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a load runtime builds")
            .block_on(load)
    })
    .await
    .expect("a load loop does not panic")
}

async fn run_clients(request: &Request, clients: usize, duration: Duration) -> LoadFigures {
    let started = Instant::now();
    let deadline = started + duration;
    let mut loops = Vec::with_capacity(clients);
    for _ in 0..clients {
        let request = request.clone();
        loops.push(tokio::spawn(one_client(request, deadline)));
    }
    let mut latencies = Latencies::default();
    let mut errors = 0;
    let mut first_error = None;
    for client in loops {
        let outcome = client.await.expect("a load loop does not panic");
        latencies.add(&outcome.latencies);
        errors += outcome.errors;
        first_error = first_error.or(outcome.first_error);
    }
    let elapsed = started.elapsed().as_secs_f64();
    LoadFigures {
        clients,
        requests: latencies.count() + errors,
        errors,
        requests_per_s: latencies.count() as f64 / elapsed,
        p50_ms: latencies.quantile_ms(0.5),
        p99_ms: latencies.quantile_ms(0.99),
        first_error,
    }
}

struct ClientOutcome {
    latencies: Latencies,
    errors: u64,
    first_error: Option<String>,
}

async fn one_client(request: Request, deadline: Instant) -> ClientOutcome {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .pool_max_idle_per_host(1)
        .build()
        .expect("a default reqwest client builds");
    let mut outcome = ClientOutcome {
        latencies: Latencies::default(),
        errors: 0,
        first_error: None,
    };
    while Instant::now() < deadline {
        let mut builder = http.request(request.method.clone(), &request.url);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let sent = Instant::now();
        let answer = match builder.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                // Read the whole body: the next request reuses the connection.
                let body = response.text().await.unwrap_or_default();
                (status == request.expect)
                    .then_some(())
                    .ok_or(format!("{status}: {body}"))
            }
            Err(error) => Err(error.to_string()),
        };
        match answer {
            Ok(()) => outcome.latencies.record(sent.elapsed()),
            Err(why) => {
                outcome.errors += 1;
                outcome.first_error.get_or_insert(why);
                // A refusing server answers fast; do not spin on it.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    outcome
}
