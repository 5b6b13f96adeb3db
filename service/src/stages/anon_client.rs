//! Failure 4: the user is validated with `getUser(jwt)`, but the Supabase client that inserts
//! was created with the anon key alone, so PostgREST runs the insert as `anon` and the
//! `sessions` RLS policy (for `authenticated` only) refuses it: 500 with PostgreSQL's own
//! "new row violates row-level security policy" message, and no row.

use axum::Router;
use axum::routing::post;

use super::debrief_final::{DataClient, create_session_with};
use crate::app::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route(
        super::ROUTE,
        post(|state, headers| create_session_with(DataClient::AnonKeyOnly, state, headers)),
    )
}
