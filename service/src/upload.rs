//! The request body is read to its end before any stage answers.
//!
//! A server that answers while the client is still uploading, then closes the connection with
//! bytes unread, makes the kernel reset it: the client sees "broken pipe" or "connection reset"
//! instead of the 413 (or the 200) that was sent. That is the misleading error this project
//! exists to catch, so the body is drained first. Past [`MAX_UPLOAD`] the connection is given up
//! (the 413 is sent, then the connection closes with a linger, see the `serving` crate), and a
//! body still arriving after the body timeout gets 408: no server reads forever.

use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ServiceError;

/// The most a request body may be before we stop reading it.
pub const MAX_UPLOAD: usize = 8 * 1024 * 1024;

/// Middleware: buffers the whole body within `timeout` (stages keep their own, smaller, limits
/// on its size).
pub async fn read_whole_body(request: Request, next: Next, timeout: Duration) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(read) = tokio::time::timeout(timeout, axum::body::to_bytes(body, MAX_UPLOAD)).await
    else {
        return ServiceError::BodyTimeout { timeout }.into_response();
    };
    match read {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(error) if is_length_limit(&error) => {
            ServiceError::PayloadTooLarge { limit: MAX_UPLOAD }.into_response()
        }
        Err(error) => ServiceError::BodyUnreadable(error.to_string()).into_response(),
    }
}

fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if cause.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = cause.source();
    }
    false
}
