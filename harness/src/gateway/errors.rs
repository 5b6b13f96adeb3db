//! The gateway's own answers, in Kong 2.8's words and shapes, written in exactly one place.
//!
//! Kong has two paths for a response it makes itself, and they choose the body's format
//! differently, so both are kept:
//! - a plugin refusing a request (key-auth, ACL) calls `kong.response.error`: the `Accept`
//!   entry with the highest q-value picks the template, JSON when none is known;
//! - a proxying failure (upstream refused, timed out, answered garbage) goes to nginx's error
//!   page handler: the whole `Accept` header (else `Content-Type`, else `error_default_type`,
//!   `text/plain`) picks the template, JSON when it is not one of Kong's four.
//!
//! Both add `Server: kong/2.8.1` and `X-Kong-Response-Latency`.

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode, header};

/// What Kong calls itself in `Server` and `Via`.
pub const KONG: &str = "kong/2.8.1";

/// Every answer the gateway gives instead of an upstream's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// key-auth: no `apikey` header or query parameter, or an empty one.
    #[error("No API key found in request")]
    NoApiKey,
    /// key-auth: the key is no consumer's credential.
    #[error("Invalid authentication credentials")]
    InvalidKey,
    /// key-auth: the `apikey` header came more than once.
    #[error("Duplicate API key found")]
    DuplicateKey,
    /// ACL: the consumer's group is not allowed on this route.
    #[error("You cannot consume this service")]
    Forbidden,
    /// No route matches the path (the self-hosted catch-all to the dashboard is not emulated:
    /// a mistyped prefix is told as what it is).
    #[error("no Route matched with those values")]
    NoRoute,
    /// The upstream refused the connection or answered something that is not HTTP.
    #[error("An invalid response was received from the upstream server")]
    BadUpstream,
    /// The upstream accepted but did not answer within the timeout.
    #[error("The upstream server is timing out")]
    UpstreamTimeout,
    /// The request body is larger than the gateway buffers.
    #[error("Payload too large")]
    PayloadTooLarge,
    /// The client stopped sending its body for longer than the timeout.
    #[error("Request timeout")]
    ClientTimeout,
    /// The request could not be read (a broken body).
    #[error("Bad request")]
    BadRequest,
}

/// Which of Kong's two error paths made the answer (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    Plugin,
    Proxy,
}

impl GatewayError {
    pub fn status(&self) -> StatusCode {
        match self {
            GatewayError::NoApiKey | GatewayError::InvalidKey | GatewayError::DuplicateKey => {
                StatusCode::UNAUTHORIZED
            }
            GatewayError::Forbidden => StatusCode::FORBIDDEN,
            GatewayError::NoRoute => StatusCode::NOT_FOUND,
            GatewayError::BadUpstream => StatusCode::BAD_GATEWAY,
            GatewayError::UpstreamTimeout => StatusCode::GATEWAY_TIMEOUT,
            GatewayError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            GatewayError::ClientTimeout => StatusCode::REQUEST_TIMEOUT,
            GatewayError::BadRequest => StatusCode::BAD_REQUEST,
        }
    }

    fn path(&self) -> Path {
        match self {
            GatewayError::NoApiKey
            | GatewayError::InvalidKey
            | GatewayError::DuplicateKey
            | GatewayError::Forbidden
            | GatewayError::NoRoute => Path::Plugin,
            _ => Path::Proxy,
        }
    }

    /// The response, formatted for the request's headers, after `latency` in the gateway.
    pub fn into_response(self, request: &HeaderMap, latency: Duration) -> Response<Body> {
        let format = match self.path() {
            Path::Plugin => plugin_format(request.get(header::ACCEPT)),
            Path::Proxy => proxy_format(
                request
                    .get(header::ACCEPT)
                    .or_else(|| request.get(header::CONTENT_TYPE)),
            ),
        };
        let mut response = Response::new(Body::from(format.render(&self.to_string())));
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(format.content_type()),
        );
        if self == GatewayError::NoApiKey {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Key realm="kong""#),
            );
        }
        headers.insert(header::SERVER, HeaderValue::from_static(KONG));
        headers.insert("x-kong-response-latency", millis(latency));
        response
    }
}

/// A latency header's value: whole milliseconds, as Kong writes it.
pub(super) fn millis(elapsed: Duration) -> HeaderValue {
    HeaderValue::from(elapsed.as_millis() as u64)
}

/// Kong's four error templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Html,
    Xml,
    Plain,
}

impl Format {
    fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json; charset=utf-8",
            Format::Html => "text/html; charset=utf-8",
            Format::Xml => "application/xml; charset=utf-8",
            Format::Plain => "text/plain; charset=utf-8",
        }
    }

    fn render(self, message: &str) -> String {
        match self {
            Format::Json => format!("{{\n  \"message\":\"{message}\"\n}}"),
            Format::Html => format!(
                "<!doctype html>\n<html>\n  <head>\n    <meta charset=\"utf-8\">\n    \
                 <title>Kong Error</title>\n  </head>\n  <body>\n    <h1>Kong Error</h1>\n    \
                 <p>{message}.</p>\n  </body>\n</html>\n"
            ),
            Format::Xml => format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<error>\n  <message>{message}</message>\n</error>\n"
            ),
            Format::Plain => format!("{message}\n"),
        }
    }

    /// Kong's `get_mime_type`: exact names, `*/*` and `application/*` (JSON), `text/*` (plain);
    /// anything else is JSON.
    fn of_mime(mime: &str) -> Format {
        let mime = mime.split(';').next().unwrap_or("").trim();
        match mime {
            "text/html" => Format::Html,
            "application/xml" => Format::Xml,
            "text/plain" | "text/*" => Format::Plain,
            _ => Format::Json,
        }
    }
}

/// `kong.response.error`: the Accept entry with the strictly highest q wins; JSON by default.
fn plugin_format(accept: Option<&HeaderValue>) -> Format {
    let Some(accept) = accept.and_then(|v| v.to_str().ok()) else {
        return Format::Json;
    };
    let mut best = (0.0_f64, Format::Json);
    for entry in accept.split(',') {
        let mut name = None;
        let mut quality = 1.0;
        for part in entry.split(';').map(str::trim) {
            if let Some(q) = part.strip_prefix("q=").or_else(|| part.strip_prefix("Q=")) {
                quality = q.parse().unwrap_or(quality);
            } else if part.contains('/') && !part.contains(char::is_whitespace) {
                name = Some(part);
            }
        }
        if quality > best.0 {
            best = (quality, name.map_or(Format::Json, Format::of_mime));
        }
    }
    best.1
}

/// nginx's error page handler: the header's text up to the first `;`, as one MIME name.
fn proxy_format(accept_or_content_type: Option<&HeaderValue>) -> Format {
    match accept_or_content_type.and_then(|v| v.to_str().ok()) {
        Some(value) => Format::of_mime(value),
        // Kong 2.8's `error_default_type`.
        None => Format::Plain,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    HeaderValue::from_str(v).unwrap(),
                )
            })
            .collect()
    }

    async fn body(response: Response<Body>) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn no_key_is_kongs_exact_401_with_its_challenge() {
        let response =
            GatewayError::NoApiKey.into_response(&headers(&[("accept", "*/*")]), Duration::ZERO);
        assert_eq!(response.status(), 401);
        assert_eq!(
            response.headers()["www-authenticate"],
            r#"Key realm="kong""#
        );
        assert_eq!(
            response.headers()["content-type"],
            "application/json; charset=utf-8"
        );
        assert_eq!(response.headers()["server"], KONG);
        assert_eq!(
            body(response).await,
            "{\n  \"message\":\"No API key found in request\"\n}"
        );
    }

    #[tokio::test]
    async fn only_the_missing_key_carries_a_challenge() {
        for error in [GatewayError::InvalidKey, GatewayError::DuplicateKey] {
            let response = error.into_response(&HeaderMap::new(), Duration::ZERO);
            assert_eq!(response.status(), 401);
            assert!(response.headers().get("www-authenticate").is_none());
        }
    }

    #[test]
    fn plugin_errors_follow_the_best_accept_entry() {
        let cases = [
            (None, Format::Json),
            (Some("*/*"), Format::Json),
            (Some("application/vnd.pgrst.object+json"), Format::Json),
            (Some("text/html"), Format::Html),
            (Some("application/json;q=0.5, text/html"), Format::Html),
            (Some("text/html;q=0.2, application/xml;q=0.9"), Format::Xml),
            (Some("text/*"), Format::Plain),
            (Some("application/json, text/html"), Format::Json),
        ];
        for (accept, expected) in cases {
            let value = accept.map(|a| HeaderValue::from_str(a).unwrap());
            assert_eq!(plugin_format(value.as_ref()), expected, "{accept:?}");
        }
    }

    #[test]
    fn proxy_errors_read_the_whole_header_as_one_name() {
        let cases = [
            (None, Format::Plain),
            (Some("text/html"), Format::Html),
            // A browser's list is no single known name: JSON.
            (Some("text/html,application/xhtml+xml"), Format::Json),
            (Some("application/json; charset=utf-8"), Format::Json),
            (Some("text/plain"), Format::Plain),
        ];
        for (value, expected) in cases {
            let value = value.map(|a| HeaderValue::from_str(a).unwrap());
            assert_eq!(proxy_format(value.as_ref()), expected, "{value:?}");
        }
    }

    #[tokio::test]
    async fn an_unreachable_upstream_without_accept_is_plain_text() {
        let response = GatewayError::BadUpstream.into_response(&HeaderMap::new(), Duration::ZERO);
        assert_eq!(response.status(), 502);
        assert_eq!(
            response.headers()["content-type"],
            "text/plain; charset=utf-8"
        );
        assert_eq!(
            body(response).await,
            "An invalid response was received from the upstream server\n"
        );
    }
}
