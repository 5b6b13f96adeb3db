//! Waiting until a service is ready: every declared probe passes, or it exits, or time is up.
//!
//! Probes are polled, starting fast (a warm service is ready in milliseconds) and backing off
//! to a few times a second. HTTP and TCP go to 127.0.0.1, never to `localhost` alone: Node 17+
//! binds `localhost` to `::1`, so a URL naming `localhost` is probed on both addresses.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    time::{Duration, Instant},
};

use regex::Regex;

use super::{
    AppError, RunningService,
    env::StackValues,
    spec::{Readiness, ReadyTcp, StatusSet},
};

const FIRST_INTERVAL: Duration = Duration::from_millis(20);
const MAX_INTERVAL: Duration = Duration::from_millis(250);
/// One HTTP probe never waits longer than this, so the deadline is kept.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// One thing to wait for, and what was last seen of it.
enum Probe {
    Http {
        urls: Vec<url::Url>,
        shown: String,
        statuses: StatusSet,
        last: String,
    },
    Tcp {
        port: u16,
        last: String,
    },
    Log {
        pattern: Regex,
        next_line: usize,
    },
}

impl Probe {
    fn describe(&self) -> String {
        match self {
            Probe::Http {
                shown,
                statuses,
                last,
                ..
            } => format!("GET {shown} to answer {statuses} (last: {last})"),
            Probe::Tcp { port, last } => {
                format!("127.0.0.1:{port} to accept TCP connections (last: {last})")
            }
            Probe::Log { pattern, .. } => {
                format!("a line of its output matching /{pattern}/ (not seen)")
            }
        }
    }

    async fn passes(
        &mut self,
        client: &reqwest::Client,
        service: &RunningService,
        left: Duration,
    ) -> bool {
        match self {
            Probe::Http {
                urls,
                statuses,
                last,
                ..
            } => {
                for url in urls.iter() {
                    let request = client.get(url.clone()).timeout(left.min(PROBE_TIMEOUT));
                    match request.send().await {
                        Ok(response) if statuses.contains(response.status().as_u16()) => {
                            return true;
                        }
                        Ok(response) => *last = format!("answered {}", response.status().as_u16()),
                        Err(error) => *last = describe_http_error(&error),
                    }
                }
                false
            }
            Probe::Tcp { port, last } => {
                let address = SocketAddr::from((Ipv4Addr::LOCALHOST, *port));
                let connect = tokio::net::TcpStream::connect(address);
                match tokio::time::timeout(left.min(PROBE_TIMEOUT), connect).await {
                    Ok(Ok(_)) => true,
                    Ok(Err(error)) => {
                        *last = error.to_string();
                        false
                    }
                    Err(_) => {
                        *last = "timed out".to_owned();
                        false
                    }
                }
            }
            Probe::Log { pattern, next_line } => {
                let (lines, next) = service.output().since(*next_line);
                *next_line = next;
                lines.iter().any(|line| pattern.is_match(&line.text))
            }
        }
    }
}

fn describe_http_error(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "no answer in time".to_owned()
    } else if error.is_connect() {
        "connection refused".to_owned()
    } else {
        let mut text = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            text = format!("{text}: {cause}");
            source = cause.source();
        }
        text
    }
}

/// The probes of `ready`, with `{{PORT}}` rendered; a service with a port and no probe gets a
/// TCP probe on it.
fn probes(
    service: &RunningService,
    ready: &Readiness,
    values: &StackValues,
) -> Result<Vec<Probe>, AppError> {
    let missing = |name: String| AppError::MissingValue {
        service: service.name().to_owned(),
        variable: "ready_url".to_owned(),
        name,
    };
    let mut probes = Vec::new();
    if let Some(ready_url) = &ready.url {
        let rendered = ready_url.url.render(values).map_err(missing)?;
        let full = if rendered.starts_with('/') {
            let port = service.port().ok_or_else(|| missing("PORT".to_owned()))?;
            format!("http://127.0.0.1:{port}{rendered}")
        } else {
            rendered
        };
        let url =
            url::Url::parse(&full).map_err(|e| missing(format!("a valid URL ({full}: {e})")))?;
        let mut urls = vec![url.clone()];
        if url.host_str() == Some("localhost") {
            let mut v4 = url.clone();
            let mut v6 = url.clone();
            let _ = v4.set_ip_host(IpAddr::V4(Ipv4Addr::LOCALHOST));
            let _ = v6.set_ip_host(IpAddr::V6(Ipv6Addr::LOCALHOST));
            urls = vec![v4, v6];
        }
        probes.push(Probe::Http {
            urls,
            shown: full,
            statuses: ready_url.statuses.clone(),
            last: "not tried".to_owned(),
        });
    }
    let tcp = match (ready.tcp, ready.is_empty()) {
        (Some(ReadyTcp::Port(port)), _) => Some(port),
        (Some(ReadyTcp::ServicePort), _) | (None, true) => service.port(),
        (None, false) => None,
    };
    if let Some(port) = tcp {
        probes.push(Probe::Tcp {
            port,
            last: "not tried".to_owned(),
        });
    }
    if let Some(pattern) = &ready.log {
        probes.push(Probe::Log {
            pattern: pattern.clone(),
            next_line: 0,
        });
    }
    Ok(probes)
}

/// Waits until every probe has passed once.
pub(super) async fn wait(
    service: &mut RunningService,
    ready: &Readiness,
    values: &StackValues,
    timeout: Duration,
) -> Result<(), AppError> {
    let mut pending = probes(service, ready, values)?;
    let client = reqwest::Client::builder()
        // A proxy from the harness's environment must not answer for the service.
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a plain HTTP client builds");
    let deadline = service.started() + timeout;
    let mut interval = FIRST_INTERVAL;
    loop {
        if let Some(status) = service.exit_status() {
            service.output().wait_closed(Duration::from_millis(500));
            return Err(AppError::ExitedBeforeReady {
                service: service.name().to_owned(),
                status: status.to_string(),
                after: service.started().elapsed(),
                waited_for: describe(&pending),
                tail: service.output().tail_text(),
            });
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let mut still = Vec::new();
        for mut probe in pending {
            if !probe.passes(&client, service, left).await {
                still.push(probe);
            }
        }
        pending = still;
        if pending.is_empty() {
            tracing::debug!(service = service.name(), elapsed = ?service.started().elapsed(), "service ready");
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(AppError::NotReady {
                service: service.name().to_owned(),
                waited: timeout,
                waited_for: describe(&pending),
                tail: service.output().tail_text(),
            });
        }
        let left = deadline.saturating_duration_since(Instant::now());
        tokio::time::sleep(interval.min(left)).await;
        interval = (interval * 3 / 2).min(MAX_INTERVAL);
    }
}

fn describe(probes: &[Probe]) -> String {
    probes
        .iter()
        .map(Probe::describe)
        .collect::<Vec<_>>()
        .join("; and ")
}
