//! Signing-key rotation as Supabase describes it (standby → in use → previously used → revoked),
//! written in the only terms GoTrue knows: `sign` or `verify` in a key's `key_ops`, or absent.
//!
//! | state | in `GOTRUE_JWT_KEYS` | in the JWKS | its tokens |
//! |---|---|---|---|
//! | standby | `key_ops: ["verify"]` | yes | accepted (none exist yet) |
//! | in use | `key_ops: ["sign","verify"]` | yes | signed now, accepted |
//! | previously used | `key_ops: ["verify"]` | yes | accepted, so rotation signs nobody out |
//! | revoked | absent | no | 403 `bad_jwt` "unrecognized JWT kid" |
//!
//! A revoked key keeps its private half here, so tests can still mint its tokens. Each state is
//! applied by restarting the auth server with [`KeySet::gotrue_jwt_keys`]; GoTrue never reloads.

use serde_json::Value;

use super::SigningError;
use super::jwk::{KeyAlgorithm, SigningJwk};

/// Where a key is in its lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    Standby,
    InUse,
    PreviouslyUsed,
    Revoked,
}

impl std::fmt::Display for KeyState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeyState::Standby => "standby",
            KeyState::InUse => "in use",
            KeyState::PreviouslyUsed => "previously used",
            KeyState::Revoked => "revoked",
        })
    }
}

#[derive(Debug, Clone)]
struct ManagedKey {
    jwk: SigningJwk,
    state: KeyState,
    /// When it stopped signing (a counter), for `previous` in scenarios.
    demoted: Option<u64>,
}

/// A project's signing keys and their states.
///
/// ```
/// use harness::signing::{KeyAlgorithm, KeySet, KeyState, SigningJwk};
/// let mut keys = KeySet::new(SigningJwk::cli_default());
/// let next = keys.add_standby(KeyAlgorithm::Es256)?;
/// keys.promote(&next)?;
/// assert_eq!(keys.state(harness::signing::CLI_KID), Some(KeyState::PreviouslyUsed));
/// keys.revoke(harness::signing::CLI_KID)?;
/// assert!(!keys.gotrue_jwt_keys().contains(harness::signing::CLI_KID));
/// # Ok::<(), harness::signing::SigningError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<ManagedKey>,
    demotions: u64,
}

impl KeySet {
    /// One key, in use.
    pub fn new(in_use: SigningJwk) -> Self {
        KeySet {
            keys: vec![ManagedKey {
                jwk: in_use,
                state: KeyState::InUse,
                demoted: None,
            }],
            demotions: 0,
        }
    }

    /// No signing keys at all: HS256 with the secret only (the legacy profile).
    pub fn empty() -> Self {
        KeySet::default()
    }

    /// Keys as a signing-keys file lists them: the one with `sign` is in use, the others are
    /// standby (imported keys start there on the platform). Their `key_ops` are kept as given.
    pub fn from_keys(keys: Vec<SigningJwk>) -> Self {
        KeySet {
            keys: keys
                .into_iter()
                .map(|jwk| {
                    let state = if jwk.key_ops.iter().any(|op| op == "sign") {
                        KeyState::InUse
                    } else {
                        KeyState::Standby
                    };
                    ManagedKey {
                        jwk,
                        state,
                        demoted: None,
                    }
                })
                .collect(),
            demotions: 0,
        }
    }

    /// Generates a key as `supabase gen signing-key` does and adds it as standby; returns its kid.
    pub fn add_standby(&mut self, alg: KeyAlgorithm) -> Result<String, SigningError> {
        self.add_standby_key(SigningJwk::generate(alg)?)
    }

    /// Adds a given key as standby (verify-only); returns its kid.
    pub fn add_standby_key(&mut self, jwk: SigningJwk) -> Result<String, SigningError> {
        let kid = jwk.kid().to_owned();
        if kid.is_empty() {
            return Err(SigningError::NoKid);
        }
        if self.find(&kid).is_some() {
            return Err(SigningError::DuplicateKid(kid));
        }
        self.keys.push(ManagedKey {
            jwk: jwk.with_key_ops(&["verify"]),
            state: KeyState::Standby,
            demoted: None,
        });
        Ok(kid)
    }

    /// Rotates: the standby key `kid` signs from now on, the key in use becomes previously used.
    pub fn promote(&mut self, kid: &str) -> Result<(), SigningError> {
        self.expect_state(kid, KeyState::Standby, "promote")?;
        self.demotions += 1;
        for key in &mut self.keys {
            if key.state == KeyState::InUse {
                key.state = KeyState::PreviouslyUsed;
                key.jwk = key.jwk.with_key_ops(&["verify"]);
                key.demoted = Some(self.demotions);
            }
        }
        let key = self.find_mut(kid).expect("checked above");
        key.state = KeyState::InUse;
        key.jwk = key.jwk.with_key_ops(&["sign", "verify"]);
        Ok(())
    }

    /// Withdraws trust in the previously used key `kid`: it leaves the array and the JWKS.
    pub fn revoke(&mut self, kid: &str) -> Result<(), SigningError> {
        self.expect_state(kid, KeyState::PreviouslyUsed, "revoke")?;
        self.find_mut(kid).expect("checked above").state = KeyState::Revoked;
        Ok(())
    }

    /// The state of `kid`, None if the set never had it.
    pub fn state(&self, kid: &str) -> Option<KeyState> {
        self.find(kid).map(|key| key.state)
    }

    /// The key that signs, if any.
    pub fn in_use(&self) -> Option<&SigningJwk> {
        self.in_state(KeyState::InUse).next()
    }

    /// The keys in `state`, oldest first.
    pub fn in_state(&self, state: KeyState) -> impl Iterator<Item = &SigningJwk> {
        self.keys
            .iter()
            .filter(move |key| key.state == state)
            .map(|key| &key.jwk)
    }

    /// The previously used key that stopped signing last.
    pub fn most_recently_demoted(&self) -> Option<&str> {
        self.keys
            .iter()
            .filter(|key| key.state == KeyState::PreviouslyUsed)
            .max_by_key(|key| key.demoted)
            .map(|key| key.jwk.kid())
    }

    /// Every key the set ever had, revoked ones included, in the order added, with its state.
    pub fn all(&self) -> impl Iterator<Item = (&SigningJwk, KeyState)> {
        self.keys.iter().map(|key| (&key.jwk, key.state))
    }

    /// Every key but the revoked ones, in the order added.
    pub fn trusted(&self) -> impl Iterator<Item = &SigningJwk> {
        self.keys
            .iter()
            .filter(|key| key.state != KeyState::Revoked)
            .map(|key| &key.jwk)
    }

    /// Whether the set has no keys (the legacy profile).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// `GOTRUE_JWT_KEYS` for this state: the trusted keys, in the CLI's serialisation.
    pub fn gotrue_jwt_keys(&self) -> String {
        serde_json::to_string(&self.trusted().collect::<Vec<_>>()).expect("JWKs serialise")
    }

    /// What `/.well-known/jwks.json` must answer in this state, as GoTrue builds it.
    pub fn jwks(&self) -> Result<Value, SigningError> {
        let keys = self
            .trusted()
            .map(|jwk| Ok(jwk.to_gotrue()?.public_jwk()))
            .collect::<Result<Vec<_>, SigningError>>()?;
        Ok(serde_json::json!({ "keys": keys.into_iter().flatten().collect::<Vec<_>>() }))
    }

    fn find(&self, kid: &str) -> Option<&ManagedKey> {
        self.keys.iter().find(|key| key.jwk.kid() == kid)
    }

    fn find_mut(&mut self, kid: &str) -> Option<&mut ManagedKey> {
        self.keys.iter_mut().find(|key| key.jwk.kid() == kid)
    }

    fn expect_state(
        &self,
        kid: &str,
        wanted: KeyState,
        action: &'static str,
    ) -> Result<(), SigningError> {
        let key = self
            .find(kid)
            .ok_or_else(|| SigningError::UnknownKid(kid.to_owned()))?;
        if key.state != wanted {
            return Err(SigningError::WrongState {
                kid: kid.to_owned(),
                state: key.state,
                wanted,
                action,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "rotation_tests.rs"]
mod tests;
