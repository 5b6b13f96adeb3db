//! The id of the request being served, readable anywhere inside its handling.
//!
//! tower-http assigns (or honours) `x-request-id`; a middleware scopes it here so error bodies
//! can quote it without threading it through every function between the handler and the error.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

tokio::task_local! {
    static CURRENT: String;
}

/// The current request's id, or `None` outside a request.
pub fn current() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

/// Middleware: runs the rest of the stack with the request's `x-request-id` in scope.
pub async fn scope(request: Request, next: Next) -> Response {
    let id = header_value(&request);
    CURRENT.scope(id, next.run(request)).await
}

/// The `x-request-id` header as text (empty if absent or not visible ASCII).
pub fn header_value<B>(request: &axum::http::Request<B>) -> String {
    request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Runs `future` as if serving a request with this id.
#[cfg(test)]
pub async fn scope_for_test<F: std::future::Future>(id: &str, future: F) -> F::Output {
    CURRENT.scope(id.to_owned(), future).await
}
