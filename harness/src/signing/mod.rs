//! Key material for a stack: the signing keys a Supabase project has today (ES256 with a kid,
//! JWKS, rotation) and the API keys beside them, as the Supabase CLI configures them.
//!
//! - [`KeyProfile`] / [`ProjectKeys`]: `cli`, `legacy` or a user's signing-keys file, and what
//!   each gives the auth server (`GOTRUE_JWT_KEYS`, valid methods, issuer), PostgREST
//!   (`PGRST_JWT_SECRET`) and `harness up --output env` (`PUBLISHABLE_KEY`, `SECRET_KEY`).
//! - [`KeySet`]: rotation as a state machine (standby, in use, previously used, revoked), each
//!   state written as the `GOTRUE_JWT_KEYS` array and the JWKS GoTrue would publish.
//! - [`KeyAction`]: one rotation step as scenarios write it, applied to a [`KeySet`].
//! - [`mint`] with a [`KeyTokenKind`]: the attacker and edge tokens scenarios ask for, made from
//!   a user's real claims; [`sign_as_issued`] for claims signed as the auth server would.
//! - [`KeyControl`]: what a replay may do with a running target's keys.
//!
//! Nothing here starts anything: the stack passes [`ProjectKeys::auth_env`] to its auth server,
//! and a rotation is a restart with the next state's variables.

mod action;
mod api_keys;
mod control;
mod jwk;
mod jws;
mod profile;
mod rotation;
mod tokens;

use std::path::PathBuf;

pub use action::{KeyAction, KeySelector};
pub use api_keys::{JWT_SECRET, LegacyApiKeys, OpaqueKeys, PUBLISHABLE_KEY, SECRET_KEY};
pub use control::{FixedKeys, KeyControl, KeyFuture};
pub use jwk::{CLI_KID, KeyAlgorithm, SigningJwk, parse_signing_keys};
pub use profile::{CLI_VALID_METHODS, KEYS_ENV, KeyProfile, ProjectKeys};
pub use rotation::{KeySet, KeyState};
pub use tokens::{ATTACKER_JKU, Attacker, KeyTokenKind, mint, sign_as_issued};

/// What went wrong with keys: reading them, rotating them or minting with them.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("cannot read the signing keys file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: failed to decode signing keys: {reason}")]
    SigningKeysFile { file: String, reason: String },
    #[error("{file}: GoTrue would not start with these keys: {error}")]
    GoTrueRefuses {
        file: String,
        error: auth::jwt_keys::JwtKeysError,
    },
    #[error("key {kid:?}: {problem}")]
    Key { kid: String, problem: String },
    #[error("a key without a kid cannot take part in a rotation: give it one")]
    NoKid,
    #[error("the key set already has a key with kid {0:?}")]
    DuplicateKid(String),
    #[error("the key set has no key with kid {0:?}")]
    UnknownKid(String),
    #[error("cannot {action} key {kid:?}: it is {state}, only a {wanted} key can be")]
    WrongState {
        kid: String,
        state: KeyState,
        wanted: KeyState,
        action: &'static str,
    },
    #[error("the key set has no {0} key")]
    NoKey(KeyState),
    #[error("token kind `{kind}` does not apply to this key set: {why}")]
    NotApplicable {
        kind: KeyTokenKind,
        why: &'static str,
    },
    #[error(
        "unknown key token kind `{0}`; known: es256, hs256-legacy, previously-used-key, revoked-key, unknown-kid, key-confusion, embedded-jwk, jku, wrong-alg, wrong-curve"
    )]
    UnknownTokenKind(String),
    #[error("the auth server's access token is not a JWT with a JSON payload: {0}")]
    NotAJwt(String),
    #[error("key operation failed: {0}")]
    Crypto(String),
}
