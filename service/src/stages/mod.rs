//! The debrief, one moment per stage, plus the reference implementation it should have been.
//!
//! Each stage is a router for the same URL, reproducing one failure the team met (see
//! `/work/shared/000_a16cd3090f23beb9.txt`) with real auth and real RLS, so the harness can
//! show which symptoms told the truth and which hid the cause.

mod anon_client;
mod cookie_first;
mod debrief_final;
mod reference;
mod route_missing;

use std::fmt;
use std::str::FromStr;

use axum::Router;
use axum::http::{Method, Uri};

use crate::app::AppState;
use crate::auth::Verification;
use crate::error::ServiceError;

/// The one route every stage is about.
pub const ROUTE: &str = "/api/session/create";

/// Which moment of the debrief the service reproduces.
///
/// ```
/// use service::Stage;
/// assert_eq!("cookie-first".parse::<Stage>().unwrap(), Stage::CookieFirst);
/// assert_eq!(Stage::DebriefFinal.to_string(), "debrief-final");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Stage {
    /// The dev server started before the route file existed: 404 for everything.
    RouteMissing,
    /// `createRouteHandlerClient`: reads the cookie before the Authorization header.
    CookieFirst,
    /// The user is checked with getUser(jwt), but the insert runs as anon: RLS says no.
    AnonClient,
    /// The debrief's final code, flaws included.
    DebriefFinal,
    /// What it should have been.
    #[default]
    Reference,
    /// The reference, verifying the token itself instead of asking the auth server: HS256 with
    /// the JWT secret, ES256/RS256 with the project's JWKS (cached, fetched again once for an
    /// unknown kid). No round trip, but a logged-out session's token passes until it expires.
    ReferenceLocal,
    /// The reference, verifying as supabase-js `getClaims()` does: the JWKS where it can,
    /// `GET /user` where getClaims falls back (HS256, no kid, a kid no fresh JWKS has).
    ReferenceClaims,
    /// A service written before the CLI signed with ES256: it verifies every token with the JWT
    /// secret, so after the upgrade every valid user is refused as if the token were bad.
    SecretOnly,
    /// A hand-written JWKS verifier: the set fetched once and kept, a key the token offers
    /// used, and every failure (an unreachable JWKS included) answered 401.
    HandRolledJwks,
}

impl Stage {
    pub const ALL: [Stage; 9] = [
        Stage::RouteMissing,
        Stage::CookieFirst,
        Stage::AnonClient,
        Stage::DebriefFinal,
        Stage::Reference,
        Stage::ReferenceLocal,
        Stage::ReferenceClaims,
        Stage::SecretOnly,
        Stage::HandRolledJwks,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stage::RouteMissing => "route-missing",
            Stage::CookieFirst => "cookie-first",
            Stage::AnonClient => "anon-client",
            Stage::DebriefFinal => "debrief-final",
            Stage::Reference => "reference",
            Stage::ReferenceLocal => "reference-local",
            Stage::ReferenceClaims => "reference-claims",
            Stage::SecretOnly => "secret-only",
            Stage::HandRolledJwks => "hand-rolled-jwks",
        }
    }

    /// How the stage verifies a token: the one thing the reference's variants change.
    pub fn verification(self) -> Verification {
        match self {
            Stage::ReferenceLocal => Verification::Local,
            Stage::ReferenceClaims => Verification::Claims,
            Stage::SecretOnly => Verification::SecretOnly,
            Stage::HandRolledJwks => Verification::HandRolled,
            _ => Verification::Remote,
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A stage name that is not one of [`Stage::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown stage `{0}`; expected one of: {names}", names = Stage::ALL.map(Stage::name).join(", "))]
pub struct UnknownStage(pub String);

impl FromStr for Stage {
    type Err = UnknownStage;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Stage::ALL
            .into_iter()
            .find(|stage| stage.name() == text)
            .ok_or_else(|| UnknownStage(text.to_owned()))
    }
}

/// The routes of `stage`, before the layers every stage shares.
pub(crate) fn router(stage: Stage) -> Router<AppState> {
    match stage {
        Stage::RouteMissing => route_missing::router(),
        Stage::CookieFirst => next_js(cookie_first::router()),
        Stage::AnonClient => next_js(anon_client::router()),
        Stage::DebriefFinal => next_js(debrief_final::router()),
        // The reference's variants differ in how they verify the token, nothing else.
        Stage::Reference
        | Stage::ReferenceLocal
        | Stage::ReferenceClaims
        | Stage::SecretOnly
        | Stage::HandRolledJwks => reference::router(),
    }
}

/// Unknown paths and methods answered as a Next.js app answers them.
fn next_js(router: Router<AppState>) -> Router<AppState> {
    router
        .fallback(|uri: Uri| async move { ServiceError::NextNotFound(uri.path().to_owned()) })
        .method_not_allowed_fallback(|method: Method| async move {
            ServiceError::NextMethodNotAllowed(method.to_string())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for stage in Stage::ALL {
            assert_eq!(stage.to_string().parse::<Stage>(), Ok(stage));
        }
        assert!("Reference".parse::<Stage>().is_err());
        assert_eq!(Stage::default(), Stage::Reference);
    }
}
