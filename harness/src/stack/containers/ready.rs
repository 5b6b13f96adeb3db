//! When a container counts as ready, and what its log says when it does not.

use std::time::{Duration, Instant};

use super::{cleanup, docker};
use crate::stack::postgres::{PASSWORD, SUPERUSER};

/// Ready when a TCP login as the superuser finds the roles the image's init creates: the init
/// runs on a socket-only server in both images, so a TCP login means the init is over.
pub(super) async fn wait_for_postgres(port: u16, timeout: Duration) -> Result<(), String> {
    use sqlx::Connection;
    let url = format!("postgres://{SUPERUSER}:{PASSWORD}@127.0.0.1:{port}/postgres");
    let started = Instant::now();
    let mut last = String::from("no answer yet");
    while started.elapsed() < timeout {
        match sqlx::PgConnection::connect(&url).await {
            Ok(mut connection) => {
                let roles: Result<i64, _> = sqlx::query_scalar(
                    "select count(*) from pg_roles where rolname in \
                     ('anon', 'authenticated', 'service_role', 'authenticator', 'supabase_auth_admin')",
                )
                .fetch_one(&mut connection)
                .await;
                match roles {
                    Ok(5) => return Ok(()),
                    Ok(n) => last = format!("only {n} of the 5 Supabase roles exist"),
                    Err(e) => last = e.to_string(),
                }
            }
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("was not ready within {timeout:?} (last: {last})"))
}

/// Ready when `health` (a full URL) answers 2xx.
pub(super) async fn wait_for_health(health: &str, timeout: Duration) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut last = String::from("no answer yet");
    while started.elapsed() < timeout {
        match client.get(health).send().await {
            Ok(response) if response.status().is_success() => return Ok(()),
            Ok(response) => last = format!("{health} answered {}", response.status()),
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!(
        "did not answer {health} within {timeout:?} (last: {last})"
    ))
}

/// `docker logs --tail 40`, through the CLI-free API, for error messages.
pub(super) fn log_tail(container: &str) -> String {
    let container = container.to_owned();
    let (sender, receiver) = std::sync::mpsc::channel();
    cleanup::block_on_cleanup(async move {
        use futures_util::StreamExt;
        let text = match docker().await {
            Ok(docker) => {
                let options = testcontainers::bollard::query_parameters::LogsOptions {
                    stdout: true,
                    stderr: true,
                    tail: "40".to_owned(),
                    ..Default::default()
                };
                let chunks: Vec<_> = docker.logs(&container, Some(options)).collect().await;
                chunks
                    .into_iter()
                    .map(|chunk| {
                        chunk
                            .map(|c| c.to_string())
                            .unwrap_or_else(|e| format!("[{e}]\n"))
                    })
                    .collect::<String>()
            }
            Err(e) => e,
        };
        let _ = sender.send(text);
    });
    receiver.recv().unwrap_or_default()
}
