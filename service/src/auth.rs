//! Who is calling: the bearer token, and what the auth server says about it.
//!
//! The product's principle lives in [`AuthFailure`]: the auth server either *rejected* the
//! token (the caller's fault: 401) or could not be asked (our fault: 503). The debrief's code
//! folded both into "Unauthorized: Invalid token.", which is how an outage passes for a bad
//! token. Classifying here, once, keeps every stage honest about which one happened.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use crate::Config;
use crate::claims::ClaimsVerifier;
use crate::hand_rolled::HandRolledVerifier;
use crate::jwks::{CachePolicy, JwksClient};
use crate::local::LocalVerifier;

/// The API version header supabase-js sends, which selects GoTrue's `{code, message}` errors.
pub const API_VERSION: &str = "2024-01-01";

/// Why no usable bearer token came with the request (reference stage).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialProblem {
    /// No `Authorization` header, or a scheme other than Bearer.
    Missing,
    /// `Bearer` with no token, extra spaces or trailing text.
    Malformed,
    /// More than one `Authorization` header: which credential the caller meant is not ours to
    /// guess (RFC 9110 allows the field once), so acting on the first would resolve the
    /// ambiguity silently, possibly as the wrong user.
    Ambiguous { headers: usize },
}

/// The token of `Authorization: Bearer <token>`, matched like GoTrue (`(?i)^bearer (\S+)$`):
/// any case of the scheme, exactly one space, one run of non-space characters; and exactly
/// one such header.
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, CredentialProblem> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let value = values.next().ok_or(CredentialProblem::Missing)?;
    let others = values.count();
    if others > 0 {
        return Err(CredentialProblem::Ambiguous {
            headers: others + 1,
        });
    }
    let value = value.to_str().map_err(|_| CredentialProblem::Malformed)?;
    let (scheme, token) = value.split_once(' ').ok_or(CredentialProblem::Missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(CredentialProblem::Missing);
    }
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(CredentialProblem::Malformed);
    }
    Ok(token)
}

/// The debrief's extraction, flaws kept: a case-sensitive `Bearer ` prefix, then
/// `split(' ')[1]`, which is `""` for `"Bearer "` and drops anything after a second space.
pub fn debrief_bearer_token(headers: &HeaderMap) -> Result<String, &'static str> {
    const NO_TOKEN: &str = "No valid Bearer token found in Authorization header.";
    let value = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.starts_with("Bearer "))
        .ok_or(NO_TOKEN)?;
    Ok(value.split(' ').nth(1).unwrap_or_default().to_owned())
}

/// The signed-in user as the auth server describes them, plus the token's claims.
#[derive(Debug, Clone)]
pub struct User {
    pub id: Uuid,
    /// The access token's payload, for `request.jwt.claims` (as PostgREST sets it).
    pub claims: Value,
}

/// Why `GET /user` did not produce a user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    /// The auth server looked at the token and said no (401, 403, or 400 for a bad claim).
    #[error("the auth server rejected the token ({status} {code}: {message})")]
    Rejected {
        status: u16,
        code: String,
        message: String,
    },
    /// The token failed our own verification: the auth server was not asked.
    #[error("the token failed local verification: {0}")]
    InvalidLocally(String),
    /// The token names a signing key the project's JWKS does not have, even freshly fetched:
    /// revoked, or never this project's.
    #[error(
        "the token's signing key {kid} is not in the project's JWKS, even freshly fetched ({detail})"
    )]
    UnknownKid { kid: String, detail: String },
    /// We could not get a trustworthy answer: unreachable, timed out, 5xx, 429, or nonsense.
    #[error("the auth server is unavailable: {0}")]
    Unavailable(String),
}

/// Calls the auth server the way supabase-js `auth.getUser(jwt)` does, or verifies the token
/// in the service, each stage its own way ([`Verification`]).
#[derive(Clone)]
pub struct AuthClient {
    http: reqwest::Client,
    user_endpoint: String,
    anon_key: String,
    mode: std::sync::Arc<Mode>,
}

impl std::fmt::Debug for AuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthClient")
            .field("user_endpoint", &self.user_endpoint)
            .field("mode", &self.mode.name())
            .finish_non_exhaustive()
    }
}

/// How a stage decides who the token's user is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// `GET /user` for every request (supabase-js `getUser(jwt)`).
    Remote,
    /// In the service: HS256 with the secret, ES256/RS256 with the JWKS; never `GET /user`.
    Local,
    /// supabase-js `getClaims(jwt)`: the JWKS where it can, `GET /user` where it falls back.
    Claims,
    /// HS256 with the secret, whatever the token is (a service written before signing keys).
    SecretOnly,
    /// A hand-written JWKS verifier, its flaws kept (see `hand_rolled`).
    HandRolled,
}

enum Mode {
    Remote,
    Local(LocalVerifier),
    Claims(ClaimsVerifier),
    HandRolled(HandRolledVerifier),
}

impl Mode {
    fn name(&self) -> &'static str {
        match self {
            Mode::Remote => "remote",
            Mode::Local(_) => "local",
            Mode::Claims(_) => "claims",
            Mode::HandRolled(_) => "hand-rolled",
        }
    }
}

impl AuthClient {
    /// `GET /user` for every token.
    pub fn new(config: &Config) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(config.auth_timeout)
            .connect_timeout(config.auth_timeout)
            .build()?;
        Ok(Self {
            http,
            user_endpoint: config.user_endpoint(),
            anon_key: config.anon_key.clone(),
            mode: std::sync::Arc::new(Mode::Remote),
        })
    }

    /// A client verifying the way `verification` says; the local ones need `config.jwt_secret`.
    pub fn verifying(
        config: &Config,
        verification: Verification,
    ) -> Result<Self, crate::ServiceError> {
        let mut client = Self::new(config).map_err(crate::ServiceError::HttpClient)?;
        let secret = || {
            config
                .jwt_secret
                .as_deref()
                .ok_or(crate::ServiceError::NoJwtSecret)
        };
        let jwks = |policy| {
            JwksClient::new(
                client.http.clone(),
                config.auth_url.as_str(),
                &config.anon_key,
                policy,
                config.cache_epoch.clone(),
            )
        };
        let ttl = CachePolicy::Ttl(config.jwks_ttl);
        let mode = match verification {
            Verification::Remote => Mode::Remote,
            Verification::Local => Mode::Local(LocalVerifier::with_jwks(secret()?, jwks(ttl))),
            Verification::SecretOnly => Mode::Local(LocalVerifier::secret_only(secret()?)),
            Verification::Claims => Mode::Claims(ClaimsVerifier::new(jwks(ttl))),
            Verification::HandRolled => Mode::HandRolled(HandRolledVerifier::new(
                secret()?,
                jwks(CachePolicy::Forever),
                client.http.clone(),
            )),
        };
        client.mode = std::sync::Arc::new(mode);
        Ok(client)
    }

    /// The token's user, or why not, as this client's stage finds out.
    pub async fn get_user(&self, token: &str) -> Result<User, AuthFailure> {
        match &*self.mode {
            Mode::Remote => self.remote_user(token).await,
            Mode::Local(local) => local.verify(token).await,
            Mode::Claims(claims) => claims.verify(token, self).await,
            Mode::HandRolled(hand_rolled) => hand_rolled.verify(token).await,
        }
    }

    /// `GET {auth}/user` with the token; the user it names, or why not.
    pub(crate) async fn remote_user(&self, token: &str) -> Result<User, AuthFailure> {
        let response = self
            .http
            .get(&self.user_endpoint)
            .header("apikey", &self.anon_key)
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .header("X-Supabase-Api-Version", API_VERSION)
            .header(
                "X-Client-Info",
                concat!("service/", env!("CARGO_PKG_VERSION")),
            )
            .send()
            .await
            .map_err(|e| AuthFailure::Unavailable(describe_transport_error(&e)))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| AuthFailure::Unavailable(describe_transport_error(&e)))?;
        let id = classify(status, &body)?;
        // GoTrue verified the token, so reading its payload unverified is now safe.
        let claims = token_claims(token).ok_or_else(|| {
            AuthFailure::Unavailable("the auth server accepted a token we cannot decode".into())
        })?;
        if claims.get("sub").and_then(Value::as_str) != Some(id.to_string().as_str()) {
            return Err(AuthFailure::Unavailable(format!(
                "the auth server answered for user {id}, but the token's sub differs"
            )));
        }
        Ok(User { id, claims })
    }
}

/// Sorts an answer from `GET /user` into a user id, a rejection or an outage.
pub fn classify(status: StatusCode, body: &[u8]) -> Result<Uuid, AuthFailure> {
    match status.as_u16() {
        200 => serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|user| user.get("id")?.as_str()?.parse::<Uuid>().ok())
            .ok_or_else(|| {
                AuthFailure::Unavailable(format!(
                    "the auth server answered 200 without a user: {}",
                    excerpt(body)
                ))
            }),
        400 | 401 | 403 => {
            let (code, message) = error_fields(body);
            Err(AuthFailure::Rejected {
                status: status.as_u16(),
                code,
                message,
            })
        }
        _ => Err(AuthFailure::Unavailable(format!(
            "the auth server answered {status}: {}",
            excerpt(body)
        ))),
    }
}

/// GoTrue's error code and message, in either of its error shapes.
fn error_fields(body: &[u8]) -> (String, String) {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let text = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| json.get(k).and_then(Value::as_str))
            .map(str::to_owned)
    };
    let code = text(&["error_code", "code"]).unwrap_or_else(|| "unknown".into());
    let message = text(&["message", "msg"]).unwrap_or_else(|| excerpt(body));
    (code, message)
}

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    match text.char_indices().nth(200) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.into_owned(),
    }
}

pub(crate) fn describe_transport_error(error: &reqwest::Error) -> String {
    // Whether a reset lands while connecting or after is a race on the wire, not a different
    // cause: both read "connection failed", with the socket's own words after it.
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_body() || error.is_decode() {
        "the answer broke off"
    } else {
        "connection failed"
    };
    // The source chain names the real cause (e.g. "Connection refused").
    let mut cause = String::new();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        cause = inner.to_string();
        source = inner.source();
    }
    format!("{kind}: {cause}")
}

/// The payload of a JWT, not verified: only call this on a token the auth server accepted.
pub fn token_claims(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice::<Value>(&bytes)
        .ok()
        .filter(Value::is_object)
}

#[cfg(test)]
#[path = "auth_tests.rs"]
mod tests;
