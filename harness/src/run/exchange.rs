//! One request as it went on the wire and what came back, in real and redacted form.

use std::time::{Duration, Instant};

/// The request as sent, redacted for the snapshot (tokens shown by kind, hosts by name).
#[derive(Debug, Clone)]
pub struct SentRequest {
    pub method: String,
    /// `[stage:reference]/api/session/create`, `[auth]/user`, or a redacted URL.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

/// The response, unredacted: assertions need the real values.
#[derive(Debug, Clone)]
pub struct Received {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    /// Every value of a header, matched case-insensitively.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.headers
            .iter()
            .filter(move |(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn request_id(&self) -> Option<&str> {
        self.header_values("x-request-id").next()
    }
}

/// A step's request and its outcome; `response` is an error when no answer came at all.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub request: SentRequest,
    pub response: Result<Received, String>,
    /// The server's log lines for this request id (in-process services only).
    pub logs: Vec<String>,
    pub elapsed: Duration,
}

/// What to send: real values, ready for the wire.
pub struct Outgoing {
    pub method: reqwest::Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<(Vec<u8>, Option<&'static str>)>,
}

/// Sends `outgoing` exactly as given: duplicate headers stay duplicate, nothing is added.
pub async fn send(
    http: &reqwest::Client,
    outgoing: Outgoing,
) -> (Result<Received, String>, Duration) {
    let started = Instant::now();
    let mut request = http.request(outgoing.method, &outgoing.url);
    let mut headers = reqwest::header::HeaderMap::new();
    for (name, value) in &outgoing.headers {
        let name = match reqwest::header::HeaderName::from_bytes(name.as_bytes()) {
            Ok(name) => name,
            Err(error) => {
                return (
                    Err(format!("invalid header name `{name}`: {error}")),
                    started.elapsed(),
                );
            }
        };
        let value = match reqwest::header::HeaderValue::from_bytes(value.as_bytes()) {
            Ok(value) => value,
            Err(error) => {
                return (
                    Err(format!("invalid value for header `{name}`: {error}")),
                    started.elapsed(),
                );
            }
        };
        headers.append(name, value);
    }
    if let Some((body, content_type)) = outgoing.body {
        if let Some(content_type) = content_type
            && !headers.contains_key(reqwest::header::CONTENT_TYPE) {
                headers.insert(
                    reqwest::header::CONTENT_TYPE,
                    content_type.parse().expect("static value"),
                );
            }
        request = request.body(body);
    }
    let result = async {
        let response = request.headers(headers).send().await.map_err(describe)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = response.text().await.map_err(describe)?;
        Ok(Received {
            status,
            headers,
            body,
        })
    }
    .await;
    (result, started.elapsed())
}

/// reqwest's Display hides the cause ("error sending request"); the chain names it.
fn describe(error: reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
