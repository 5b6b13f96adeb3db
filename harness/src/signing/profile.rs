//! Key profiles: which keys a stack's auth server, data API and clients get, as the Supabase CLI
//! would configure them.
//!
//! - `cli`: what `supabase start` issues since v2.71 (Jan 2026): the CLI's ES256 key signs user
//!   tokens (kid `b81269f1-…`), the anon / service_role keys stay the HS256 demo keys, and the
//!   opaque `sb_publishable_…` / `sb_secret_…` keys sit beside them.
//! - `legacy`: HS256 with the JWT secret and nothing else (before signing keys and before the
//!   opaque keys, CLI < v2.45).
//! - a signing-keys file (`[auth] signing_keys_path`): the user's keys, read as the CLI reads
//!   them; the anon / service_role keys are then signed with its first key.
//!
//! Each profile yields the auth server's variables ([`ProjectKeys::auth_env`], the CLI's
//! `start.go`), PostgREST's `PGRST_JWT_SECRET` ([`ProjectKeys::postgrest_jwt_secret`], the CLI's
//! `ResolveJWKS`) and what `harness up --output env` prints beside the legacy keys.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use super::SigningError;
use super::api_keys::JWT_SECRET;
use super::api_keys::{LegacyApiKeys, OpaqueKeys};
use super::jwk::{SigningJwk, parse_signing_keys};
use super::rotation::KeySet;

/// The methods the CLI always allows (`GOTRUE_JWT_VALID_METHODS`).
pub const CLI_VALID_METHODS: &str = "HS256,RS256,ES256";

/// The CLI's `remoteJWKS` as it marshals it: public JWKs in its field order, then the secret.
#[derive(Serialize)]
struct Jwks {
    keys: Vec<JwksEntry>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum JwksEntry {
    Public(Box<SigningJwk>),
    KeyedSecret {
        kty: &'static str,
        kid: String,
        k: String,
    },
    Secret {
        kty: &'static str,
        k: String,
    },
}

/// The variable that chooses the profile of a stack whose builder and project do not
/// (`HARNESS_KEYS=legacy cargo test`): `cli`, `legacy` or a signing-keys file's path.
pub const KEYS_ENV: &str = "HARNESS_KEYS";

/// Which keys a stack runs with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum KeyProfile {
    #[default]
    Cli,
    Legacy,
    SigningKeysFile(PathBuf),
}

impl KeyProfile {
    /// `cli`, `legacy`, or a path to a signing-keys file.
    pub fn parse(text: &str) -> Self {
        match text {
            "cli" => KeyProfile::Cli,
            "legacy" => KeyProfile::Legacy,
            path => KeyProfile::SigningKeysFile(PathBuf::from(path)),
        }
    }

    /// [`KEYS_ENV`] when it is set and not empty, else None.
    pub fn from_env() -> Option<Self> {
        std::env::var(KEYS_ENV)
            .ok()
            .filter(|text| !text.trim().is_empty())
            .map(|text| KeyProfile::parse(text.trim()))
    }

    /// `cli`, `legacy` or `file`: what scenarios and reports call the profile.
    pub fn name(&self) -> &'static str {
        match self {
            KeyProfile::Cli => "cli",
            KeyProfile::Legacy => "legacy",
            KeyProfile::SigningKeysFile(_) => "file",
        }
    }

    /// The profile's keys; a file's are read now, and its API keys minted at `now` (unix s).
    pub fn load(&self, now: i64) -> Result<ProjectKeys, SigningError> {
        match self {
            KeyProfile::Cli => Ok(ProjectKeys::cli()),
            KeyProfile::Legacy => Ok(ProjectKeys::legacy()),
            KeyProfile::SigningKeysFile(path) => ProjectKeys::from_signing_keys_file(path, now),
        }
    }
}

impl std::fmt::Display for KeyProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyProfile::SigningKeysFile(path) => write!(f, "file {}", path.display()),
            other => f.write_str(other.name()),
        }
    }
}

/// Every key of one project, and the configuration each component gets from them.
#[derive(Debug, Clone)]
pub struct ProjectKeys {
    profile: KeyProfile,
    jwt_secret: String,
    signing: KeySet,
    legacy: LegacyApiKeys,
    opaque: Option<OpaqueKeys>,
    /// A signing-keys file is set: the CLI then leaves the secret out of PostgREST's JWKS.
    from_file: bool,
}

impl ProjectKeys {
    /// What `supabase start` issues by default.
    pub fn cli() -> Self {
        ProjectKeys {
            profile: KeyProfile::Cli,
            jwt_secret: JWT_SECRET.into(),
            signing: KeySet::new(SigningJwk::cli_default()),
            legacy: LegacyApiKeys::hs256(JWT_SECRET),
            opaque: Some(OpaqueKeys::cli()),
            from_file: false,
        }
    }

    /// HS256 only.
    pub fn legacy() -> Self {
        ProjectKeys {
            profile: KeyProfile::Legacy,
            jwt_secret: JWT_SECRET.into(),
            signing: KeySet::empty(),
            legacy: LegacyApiKeys::hs256(JWT_SECRET),
            opaque: None,
            from_file: false,
        }
    }

    /// A `signing_keys_path` file, API keys minted at `now`.
    pub fn from_signing_keys_file(path: &Path, now: i64) -> Result<Self, SigningError> {
        let text = std::fs::read_to_string(path).map_err(|source| SigningError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_signing_keys_json(&text, &path.display().to_string(), now)
    }

    /// A signing-keys file's contents; `source` names it in errors. The keys must also be keys
    /// GoTrue starts with (one signing key, complete private parts), checked now rather than
    /// when the auth server exits.
    pub fn from_signing_keys_json(
        text: &str,
        source: &str,
        now: i64,
    ) -> Result<Self, SigningError> {
        let keys = parse_signing_keys(text, source)?;
        let legacy = match keys.first() {
            Some(first) => LegacyApiKeys::signed_with(first, now)?,
            None => LegacyApiKeys::hs256(JWT_SECRET),
        };
        let project = ProjectKeys {
            profile: KeyProfile::SigningKeysFile(PathBuf::from(source)),
            jwt_secret: JWT_SECRET.into(),
            signing: KeySet::from_keys(keys),
            legacy,
            opaque: Some(OpaqueKeys::cli()),
            from_file: true,
        };
        project.check_gotrue_accepts(source)?;
        Ok(project)
    }

    /// The key set a rotation starts from: the signing keys, or, for a project that has none
    /// (`legacy`), its JWT secret imported as the in-use key, as the platform does before a
    /// legacy project's first rotation (GoTrue needs exactly one signing key in
    /// `GOTRUE_JWT_KEYS`). HS256 tokens it signs from then on carry that key's kid.
    pub fn rotatable_key_set(&self) -> KeySet {
        if self.signing.is_empty() {
            KeySet::new(SigningJwk::imported_secret(&self.jwt_secret))
        } else {
            self.signing.clone()
        }
    }

    /// The same project after a rotation step.
    pub fn with_key_set(self, signing: KeySet) -> Self {
        ProjectKeys { signing, ..self }
    }

    /// The signing keys and their states.
    pub fn key_set(&self) -> &KeySet {
        &self.signing
    }

    /// The profile these keys came from.
    pub fn profile(&self) -> &KeyProfile {
        &self.profile
    }

    /// GoTrue's words (golang-jwt's) for a signature that does not verify under
    /// [`Self::issued_alg`]: where a snapshot would show which algorithm a profile issues.
    pub fn issued_bad_signature(&self) -> &'static str {
        match self.issued_alg() {
            "ES256" | "ES512" => "crypto/ecdsa: verification error",
            "RS256" | "RS512" => "crypto/rsa: verification error",
            "EdDSA" => "ed25519: verification error",
            _ => "signature is invalid",
        }
    }

    /// The algorithm of the tokens the auth server issues now: the in-use key's, else HS256.
    pub fn issued_alg(&self) -> &str {
        self.signing
            .in_use()
            .and_then(|key| key.alg.as_deref())
            .unwrap_or("HS256")
    }

    /// `GOTRUE_JWT_SECRET` (also PostgREST's HS256 key).
    pub fn jwt_secret(&self) -> &str {
        &self.jwt_secret
    }

    /// The anon key (a JWT).
    pub fn anon_key(&self) -> &str {
        &self.legacy.anon
    }

    /// The service_role key (a JWT).
    pub fn service_role_key(&self) -> &str {
        &self.legacy.service_role
    }

    /// `sb_publishable_…`, None for the legacy profile.
    pub fn publishable_key(&self) -> Option<&str> {
        self.opaque.as_ref().map(|k| k.publishable.as_str())
    }

    /// `sb_secret_…`, None for the legacy profile.
    pub fn secret_key(&self) -> Option<&str> {
        self.opaque.as_ref().map(|k| k.secret.as_str())
    }

    /// The auth server's signing variables, as `supabase start` sets them; `issuer` is the
    /// auth URL clients see (the CLI's `http://127.0.0.1:54321/auth/v1`).
    pub fn auth_env(&self, issuer: &str) -> Vec<(String, String)> {
        let mut env = vec![("GOTRUE_JWT_SECRET".to_owned(), self.jwt_secret.clone())];
        // The CLI passes its key array whenever it has one, even an empty file's `[]`.
        if !self.signing.is_empty() || self.from_file {
            env.push(("GOTRUE_JWT_KEYS".into(), self.signing.gotrue_jwt_keys()));
            // The misspelt name is what older GoTrue images read; the CLI sets both.
            env.push(("GOTRUE_JWT_VALIDMETHODS".into(), CLI_VALID_METHODS.into()));
            env.push(("GOTRUE_JWT_VALID_METHODS".into(), CLI_VALID_METHODS.into()));
        }
        env.push(("GOTRUE_JWT_ISSUER".into(), issuer.to_owned()));
        env
    }

    /// `PGRST_JWT_SECRET`: a JWK Set of the public signing keys (the CLI's `ToPublicJWK`), plus
    /// an `oct` key whose `k` is the base64url of the secret's bytes unless a signing-keys file
    /// is set (the CLI's `ResolveJWKS`).
    pub fn postgrest_jwt_secret(&self) -> String {
        let mut keys: Vec<JwksEntry> = self
            .signing
            .trusted()
            .map(|jwk| match (jwk.kty.as_str(), &jwk.k) {
                // The imported secret: PostgREST matches a token's kid to a key's, so it keeps
                // its kid here (the kid-less secret below is for the kid-less API keys).
                ("oct", Some(k)) => JwksEntry::KeyedSecret {
                    kty: "oct",
                    kid: jwk.kid().to_owned(),
                    k: k.clone(),
                },
                _ => JwksEntry::Public(Box::new(jwk.public())),
            })
            .collect();
        if !self.from_file {
            keys.push(JwksEntry::Secret {
                kty: "oct",
                k: URL_SAFE_NO_PAD.encode(self.jwt_secret.as_bytes()),
            });
        }
        serde_json::to_string(&Jwks { keys }).expect("a JWK Set serialises")
    }

    /// What `harness up --output env` prints beside the legacy keys: `PUBLISHABLE_KEY` and
    /// `SECRET_KEY` (as `supabase status -o env`), nothing for the legacy profile.
    pub fn output_env(&self) -> Vec<(String, String)> {
        match &self.opaque {
            Some(keys) => vec![
                ("PUBLISHABLE_KEY".into(), keys.publishable.clone()),
                ("SECRET_KEY".into(), keys.secret.clone()),
            ],
            None => Vec::new(),
        }
    }

    fn check_gotrue_accepts(&self, source: &str) -> Result<(), SigningError> {
        if self.signing.is_empty() {
            return Ok(());
        }
        auth::jwt_keys::JwtKeys::from_settings(
            &self.jwt_secret,
            None,
            Some(&self.signing.gotrue_jwt_keys()),
            Some(CLI_VALID_METHODS),
        )
        .map(drop)
        .map_err(|error| SigningError::GoTrueRefuses {
            file: source.to_owned(),
            error,
        })
    }
}

#[cfg(test)]
#[path = "profile_tests.rs"]
mod tests;
