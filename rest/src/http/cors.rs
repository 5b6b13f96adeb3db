//! PostgREST's CORS (wai-cors with its policy): only when the request has `Origin`; a
//! preflight is answered here; allowed origins from `server-cors-allowed-origins` (any
//! when unset); other origins pass without CORS headers.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, Response, StatusCode, header};
use axum::middleware::Next;

use crate::state::AppState;

const METHODS: &str = "GET, POST, PATCH, PUT, DELETE, OPTIONS";
const EXPOSE: &str = "Content-Encoding, Content-Location, Content-Range, Content-Type, Date, Location, Server, Transfer-Encoding, Range-Unit";

/// The middleware.
pub async fn layer(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response<Body> {
    let Some(origin) = req.headers().get(header::ORIGIN).cloned() else {
        return next.run(req).await;
    };
    let config = state.config();
    let allow_origin = match &config.server_cors_allowed_origins {
        None => Some(HeaderValue::from_static("*")),
        Some(list) => origin
            .to_str()
            .ok()
            .filter(|o| list.iter().any(|a| a == o))
            .map(|_| origin.clone()),
    };
    let Some(allow_origin) = allow_origin else {
        return next.run(req).await;
    };
    let credentials = config.server_cors_allowed_origins.is_some();
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        let requested = req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .and_then(|v| v.to_str().ok())
            .map(|h| {
                h.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .filter(|s| !s.is_empty());
        let allow_headers = match requested {
            Some(r) => format!("Authorization, {r}"),
            None => "Authorization".into(),
        };
        let mut response = Response::builder()
            .status(StatusCode::OK)
            .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin)
            .header(header::ACCESS_CONTROL_ALLOW_METHODS, METHODS)
            .header(header::ACCESS_CONTROL_ALLOW_HEADERS, allow_headers)
            .header(header::ACCESS_CONTROL_MAX_AGE, "86400");
        if credentials {
            response = response.header(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, "true");
        }
        return response.body(Body::empty()).unwrap_or_default();
    }
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSE),
    );
    if credentials {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
    response
}
