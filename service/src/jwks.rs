//! The project's JWKS as a server fetches and caches it to verify tokens without asking the
//! auth server each time: `GET {auth}/.well-known/jwks.json`, kept in memory.
//!
//! Two policies, because the difference is the story of a rotation:
//! - [`CachePolicy::Ttl`]: supabase-js's `getClaims()` (auth-js `GoTrueClient.fetchJwk`): a
//!   kid missing from the cache, or a cache older than its TTL (10 minutes, `JWKS_TTL`), fetches
//!   the set again, once. A rotation is seen at the first token of the new key; a revocation
//!   only when the cache expires.
//! - [`CachePolicy::Forever`]: what hand-written verifiers often do: fetch at the first request,
//!   keep it for the process's life. The new key's tokens are refused until a restart; the
//!   revoked key's accepted until then.
//!
//! A set that cannot be fetched is an outage of the auth server, never a verdict on the token:
//! [`JwksClient::find`] says so with [`JwksUnavailable`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, JwkSet};
use tokio::sync::Mutex;

/// How long supabase-js keeps a JWKS (auth-js `JWKS_TTL`).
pub const JWKS_TTL: Duration = Duration::from_secs(600);

/// Forgets every cached JWKS of the stages that share it when reset, as if the service had just
/// started: the harness resets it before each scenario, so no scenario sees another's cache.
#[derive(Debug, Clone, Default)]
pub struct CacheEpoch(Arc<AtomicU64>);

impl CacheEpoch {
    pub fn new() -> CacheEpoch {
        CacheEpoch::default()
    }

    /// Every cache filled before this call is stale from now on.
    pub fn reset(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    fn current(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// When a cached set is fetched again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CachePolicy {
    /// On a kid it lacks, and once it is older than this.
    Ttl(Duration),
    /// Never, once fetched.
    Forever,
}

/// What the lookup of a kid found.
#[derive(Debug, Clone)]
pub enum Lookup {
    Found(Box<Jwk>),
    /// Not in the set; `fresh` says whether the set was fetched for this lookup (else it is a
    /// cached one, which [`CachePolicy::Forever`] never refreshes).
    Missing {
        fresh: bool,
    },
}

/// The JWKS could not be had: the auth server is down, slow or answering nonsense.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the JWKS at {url} could not be fetched: {reason}")]
pub struct JwksUnavailable {
    pub url: String,
    pub reason: String,
}

struct Cached {
    keys: JwkSet,
    fetched: Instant,
    epoch: u64,
}

/// One stage's JWKS client and cache.
pub struct JwksClient {
    http: reqwest::Client,
    url: String,
    apikey: String,
    policy: CachePolicy,
    epoch: CacheEpoch,
    // Held across a fetch: concurrent misses wait for one fetch instead of each making theirs.
    cache: Mutex<Option<Cached>>,
}

impl std::fmt::Debug for JwksClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksClient")
            .field("url", &self.url)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl JwksClient {
    /// A client for `{auth_root}/.well-known/jwks.json`, sending `apikey` as supabase-js does.
    pub fn new(
        http: reqwest::Client,
        auth_root: &str,
        apikey: &str,
        policy: CachePolicy,
        epoch: CacheEpoch,
    ) -> JwksClient {
        JwksClient {
            http,
            url: format!("{}/.well-known/jwks.json", auth_root.trim_end_matches('/')),
            apikey: apikey.to_owned(),
            policy,
            epoch,
            cache: Mutex::new(None),
        }
    }

    /// The key `kid` names, fetching the set when the policy says to.
    pub async fn find(&self, kid: &str) -> Result<Lookup, JwksUnavailable> {
        let mut cache = self.cache.lock().await;
        let epoch = self.epoch.current();
        let usable = cache.as_ref().filter(|cached| {
            cached.epoch == epoch
                && match self.policy {
                    CachePolicy::Ttl(ttl) => cached.fetched.elapsed() < ttl,
                    CachePolicy::Forever => true,
                }
        });
        if let Some(cached) = usable {
            match (cached.keys.find(kid), self.policy) {
                (Some(jwk), _) => return Ok(Lookup::Found(Box::new(jwk.clone()))),
                (None, CachePolicy::Forever) => return Ok(Lookup::Missing { fresh: false }),
                (None, CachePolicy::Ttl(_)) => {
                    tracing::info!(kid, "the kid is not in the cached JWKS: fetching it again");
                }
            }
        }
        let keys = self.fetch().await?;
        // Not above trace: whether a first fetch happens depends on the key profile, and the
        // snapshots of profile-neutral scenarios must not.
        tracing::trace!(url = %self.url, keys = keys.keys.len(), "JWKS fetched");
        let found = keys.find(kid).cloned();
        *cache = Some(Cached {
            keys,
            fetched: Instant::now(),
            epoch,
        });
        Ok(match found {
            Some(jwk) => Lookup::Found(Box::new(jwk)),
            None => Lookup::Missing { fresh: true },
        })
    }

    async fn fetch(&self) -> Result<JwkSet, JwksUnavailable> {
        let unavailable = |reason: String| JwksUnavailable {
            url: self.url.clone(),
            reason,
        };
        let response = self
            .http
            .get(&self.url)
            .header("apikey", &self.apikey)
            .send()
            .await
            .map_err(|e| unavailable(crate::auth::describe_transport_error(&e)))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| unavailable(crate::auth::describe_transport_error(&e)))?;
        if status != reqwest::StatusCode::OK {
            return Err(unavailable(format!("the auth server answered {status}")));
        }
        serde_json::from_slice(&body)
            .map_err(|e| unavailable(format!("the answer is not a JWK Set: {e}")))
    }
}

#[cfg(test)]
#[path = "jwks_tests.rs"]
mod tests;
