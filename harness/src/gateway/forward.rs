//! Proxying one request to its upstream the way Kong's nginx does: the request body buffered
//! first (`proxy_request_buffering on`), hop-by-hop headers dropped, `Host` the upstream's
//! (`preserve_host: false`), the `X-Forwarded-*` set (`X-Forwarded-For` appended to), the
//! response streamed back with `Via` and Kong's latency headers.
//!
//! Failures keep Kong's statuses, because telling them apart is the point: a refused or
//! garbled upstream is 502, one that accepts and never answers is 504 after the timeout, and a
//! connection refused before anything was sent is tried again up to Kong's default 5 retries
//! (a paused server is not retried: nginx does not resend a request that may have arrived).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Request, Response, Uri, header};
use futures_util::StreamExt;
use http_body_util::BodyExt;
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use hyper_util::rt::TokioExecutor;

use super::errors::{GatewayError, KONG, millis};

/// Kong's service default: `retries = 5`.
const RETRIES: usize = 5;

/// Headers that describe one connection, never forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// The upstream client every request of one gateway shares (keep-alive connections).
#[derive(Clone)]
pub struct Upstream {
    client: Client<HttpConnector, Body>,
    timeout: Duration,
    max_body: usize,
}

/// Where and how one request goes, decided by the router before forwarding.
pub struct Outbound {
    pub upstream: SocketAddr,
    /// The upstream path and the original query.
    pub path_and_query: String,
    /// The client's address, for `X-Forwarded-For` / `X-Real-IP`.
    pub client: SocketAddr,
    /// The gateway's own port, for `X-Forwarded-Port`.
    pub gateway_port: u16,
    /// The matched route's prefix, for `X-Forwarded-Prefix`.
    pub prefix: String,
    /// When the gateway received the request, for `X-Kong-Proxy-Latency`.
    pub received: Instant,
}

impl Upstream {
    /// `timeout` is Kong's connect/read/write timeout (60 s by default); `max_body` bounds the
    /// buffered request body.
    pub fn new(timeout: Duration, max_body: usize) -> Upstream {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(timeout));
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .build(connector);
        Upstream {
            client,
            timeout,
            max_body,
        }
    }

    /// Sends `request` (whose headers the router has already adjusted) to the upstream.
    pub async fn forward(
        &self,
        request: Request<Body>,
        outbound: Outbound,
    ) -> Result<Response<Body>, GatewayError> {
        let (parts, body) = request.into_parts();
        let body = self.buffer(body).await?;
        let uri: Uri = format!("http://{}{}", outbound.upstream, outbound.path_and_query)
            .parse()
            .map_err(|_| GatewayError::BadUpstream)?;
        let mut headers = parts.headers;
        forwarded_headers(&mut headers, &outbound);
        let proxy_latency = outbound.received.elapsed();

        let mut attempt = 0;
        let sent = Instant::now();
        let response = loop {
            let mut upstream_request = Request::new(Body::from(body.clone()));
            *upstream_request.method_mut() = parts.method.clone();
            *upstream_request.uri_mut() = uri.clone();
            *upstream_request.headers_mut() = headers.clone();
            let started = tokio::time::timeout(self.timeout, self.client.request(upstream_request));
            match started.await {
                Err(_) => return Err(GatewayError::UpstreamTimeout),
                Ok(Ok(response)) => break response,
                Ok(Err(error)) if error.is_connect() && attempt < RETRIES => {
                    tracing::debug!(%error, attempt, "upstream refused the connection; retrying");
                    attempt += 1;
                }
                Ok(Err(error)) => {
                    tracing::debug!(%error, "upstream failed");
                    return Err(GatewayError::BadUpstream);
                }
            }
        };
        let upstream_latency = sent.elapsed();

        let (mut parts, incoming) = response.into_parts();
        strip_hop_by_hop(&mut parts.headers);
        parts
            .headers
            .insert(header::VIA, HeaderValue::from_static(KONG));
        parts
            .headers
            .insert("x-kong-upstream-latency", millis(upstream_latency));
        parts
            .headers
            .insert("x-kong-proxy-latency", millis(proxy_latency));
        let timeout = self.timeout;
        // nginx's `proxy_read_timeout` applies between reads: a body that stalls is cut.
        let frames = incoming.into_data_stream();
        let stalls = futures_util::stream::unfold(Box::pin(frames), move |mut frames| async move {
            match tokio::time::timeout(timeout, frames.next()).await {
                Ok(Some(chunk)) => Some((chunk.map_err(std::io::Error::other), frames)),
                Ok(None) => None,
                Err(_) => Some((
                    Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the upstream stopped sending its body",
                    )),
                    frames,
                )),
            }
        });
        Ok(Response::from_parts(parts, Body::from_stream(stalls)))
    }

    /// The whole request body, as nginx buffers it, within the size bound and the timeout
    /// between reads (`client_body_timeout`).
    async fn buffer(&self, body: Body) -> Result<Bytes, GatewayError> {
        let mut frames = body.into_data_stream();
        let mut buffered = Vec::new();
        loop {
            match tokio::time::timeout(self.timeout, frames.next()).await {
                Err(_) => return Err(GatewayError::ClientTimeout),
                Ok(None) => return Ok(Bytes::from(buffered)),
                Ok(Some(Err(_))) => return Err(GatewayError::BadRequest),
                Ok(Some(Ok(chunk))) => {
                    if buffered.len() + chunk.len() > self.max_body {
                        return Err(GatewayError::PayloadTooLarge);
                    }
                    buffered.extend_from_slice(&chunk);
                }
            }
        }
    }
}

/// Drops hop-by-hop headers, and any header a `Connection` header names.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(*name);
    }
}

/// The request headers as Kong sends them upstream (no trusted proxies, so the client's own
/// `X-Forwarded-*` are replaced, except `X-Forwarded-For`, which is appended to).
fn forwarded_headers(headers: &mut HeaderMap, outbound: &Outbound) {
    strip_hop_by_hop(headers);
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(|host| {
            host.rsplit_once(':')
                .map_or(host, |(name, _)| name)
                .to_owned()
        });
    headers.remove(header::HOST);
    let ip = outbound.client.ip().to_string();
    let forwarded_for = match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
        Some(earlier) => format!("{earlier}, {ip}"),
        None => ip.clone(),
    };
    let path = outbound
        .path_and_query
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set("x-forwarded-for", forwarded_for);
    set("x-real-ip", ip);
    set("x-forwarded-proto", "http".to_owned());
    set("x-forwarded-port", outbound.gateway_port.to_string());
    set("x-forwarded-path", path);
    set("x-forwarded-prefix", outbound.prefix.clone());
    match host {
        Some(host) => set("x-forwarded-host", host),
        None => {
            headers.remove("x-forwarded-host");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outbound() -> Outbound {
        Outbound {
            upstream: "127.0.0.1:9".parse().unwrap(),
            path_and_query: "/sessions?select=id".into(),
            client: "127.0.0.1:50000".parse().unwrap(),
            gateway_port: 54321,
            prefix: "/rest/v1".into(),
            received: Instant::now(),
        }
    }

    #[test]
    fn forwarded_headers_replace_the_clients_and_append_to_x_forwarded_for() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:54321"));
        headers.insert("x-forwarded-for", HeaderValue::from_static("10.0.0.1"));
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        headers.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, x-secret"),
        );
        headers.insert("x-secret", HeaderValue::from_static("hop"));
        headers.insert("apikey", HeaderValue::from_static("kept"));
        forwarded_headers(&mut headers, &outbound());
        assert_eq!(headers["x-forwarded-for"], "10.0.0.1, 127.0.0.1");
        assert_eq!(headers["x-real-ip"], "127.0.0.1");
        assert_eq!(headers["x-forwarded-proto"], "http");
        assert_eq!(headers["x-forwarded-host"], "127.0.0.1");
        assert_eq!(headers["x-forwarded-port"], "54321");
        assert_eq!(headers["x-forwarded-path"], "/sessions");
        assert_eq!(headers["x-forwarded-prefix"], "/rest/v1");
        assert!(headers.get(header::HOST).is_none());
        assert!(headers.get(header::CONNECTION).is_none());
        assert!(headers.get("x-secret").is_none());
        assert_eq!(headers["apikey"], "kept");
    }

    #[tokio::test]
    async fn a_refused_upstream_is_502_and_a_silent_one_504() {
        let upstream = Upstream::new(Duration::from_millis(300), 1024);
        // Nothing listens on a port we just bound and released.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let refused = closed.local_addr().unwrap();
        drop(closed);
        let mut out = outbound();
        out.upstream = refused;
        let got = upstream.forward(Request::new(Body::empty()), out).await;
        assert_eq!(got.unwrap_err(), GatewayError::BadUpstream);

        // Accepts, reads, never answers.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut out = outbound();
        out.upstream = silent.local_addr().unwrap();
        let hold = tokio::spawn(async move {
            let (socket, _) = silent.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(5)).await;
            drop(socket);
        });
        let started = Instant::now();
        let got = upstream.forward(Request::new(Body::empty()), out).await;
        assert_eq!(got.unwrap_err(), GatewayError::UpstreamTimeout);
        assert!(started.elapsed() < Duration::from_secs(2));
        hold.abort();
    }

    #[tokio::test]
    async fn a_body_past_the_bound_is_refused_before_anything_is_sent() {
        let upstream = Upstream::new(Duration::from_secs(1), 4);
        let request = Request::new(Body::from("12345"));
        let got = upstream.forward(request, outbound()).await;
        assert_eq!(got.unwrap_err(), GatewayError::PayloadTooLarge);
    }
}
