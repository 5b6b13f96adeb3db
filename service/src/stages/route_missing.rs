//! Failure 1: the dev server was started before `route.ts` existed, so it knows no route at
//! all. The right URL gets the same Next.js 404 page as a typo would.

use axum::Router;
use axum::http::Uri;

use crate::app::AppState;
use crate::error::ServiceError;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .fallback(|uri: Uri| async move { ServiceError::NextNotFound(uri.path().to_owned()) })
}
