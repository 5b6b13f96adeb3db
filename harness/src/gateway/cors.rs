//! Kong's cors plugin with no `config`, as `kong.yml` enables it on every route: a preflight is
//! answered before key-auth runs (so it needs no key), and every response of a matched route,
//! the gateway's own refusals included, gets `Access-Control-Allow-Origin: *`.

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Response, StatusCode, header};

use super::errors::{KONG, millis};

/// The plugin's default `methods`.
const METHODS: &str = "GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS,TRACE,CONNECT";

/// A CORS preflight: OPTIONS with both `Origin` and `Access-Control-Request-Method`; an OPTIONS
/// without them is an ordinary request (and needs a key).
pub fn is_preflight(method: &Method, headers: &HeaderMap) -> bool {
    method == Method::OPTIONS
        && headers.contains_key(header::ORIGIN)
        && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// The plugin's answer to a preflight: 200, empty, allowing any origin, its default methods and
/// whatever headers were asked for; no max-age, no credentials.
pub fn preflight(request: &HeaderMap, latency: Duration) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    allow_origin(headers);
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(METHODS),
    );
    if let Some(asked) = request.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(0));
    headers.insert(header::SERVER, HeaderValue::from_static(KONG));
    headers.insert("x-kong-response-latency", millis(latency));
    response
}

/// The header every response of a matched route gets (replacing an upstream's own).
pub fn allow_origin(headers: &mut HeaderMap) {
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preflight_needs_origin_and_the_requested_method() {
        let mut headers = HeaderMap::new();
        assert!(!is_preflight(&Method::OPTIONS, &headers));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://localhost:3000"),
        );
        assert!(!is_preflight(&Method::OPTIONS, &headers));
        headers.insert(
            header::ACCESS_CONTROL_REQUEST_METHOD,
            HeaderValue::from_static("POST"),
        );
        assert!(is_preflight(&Method::OPTIONS, &headers));
        assert!(!is_preflight(&Method::GET, &headers));
    }

    #[test]
    fn the_answer_echoes_the_requested_headers() {
        let mut request = HeaderMap::new();
        request.insert(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            HeaderValue::from_static("apikey, authorization, x-client-info, prefer"),
        );
        let response = preflight(&request, Duration::ZERO);
        assert_eq!(response.status(), 200);
        let headers = response.headers();
        assert_eq!(headers["access-control-allow-origin"], "*");
        assert_eq!(headers["access-control-allow-methods"], METHODS);
        assert_eq!(
            headers["access-control-allow-headers"],
            "apikey, authorization, x-client-info, prefer"
        );
        assert!(headers.get("access-control-max-age").is_none());
        assert!(headers.get("access-control-allow-credentials").is_none());
    }
}
