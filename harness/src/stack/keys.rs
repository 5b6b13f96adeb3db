//! A running stack's signing keys, and rotating them while it runs.
//!
//! A rotation step is applied where Supabase applies it: the auth server is restarted on its
//! port with the next `GOTRUE_JWT_KEYS` (GoTrue never reloads its keys), and the data API is
//! reconfigured through PostgREST's in-database configuration (`ALTER ROLE authenticator SET
//! pgrst.jwt_secret = '<JWKS>'`, then `NOTIFY pgrst, 'reload config'`), which works for our
//! data API and for a real PostgREST alike. The step returns once the data API verifies by the
//! new key set. The reference service's JWKS caches are left alone: what they have not seen
//! yet is what rotation scenarios are about. [`KeyControl::reset`] puts the start's keys back
//! and empties those caches, before every scenario.
//!
//! The key material itself lives in [`crate::signing`]; this module only applies it.

use std::sync::{RwLock, Weak};
use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::Connection;
use tokio::sync::Mutex;

use super::StackError;
use super::servers::Servers;
use crate::signing::{
    KeyAction, KeyAlgorithm, KeyControl, KeyFuture, KeySelector, KeySet, KeyState, ProjectKeys,
};

/// How long the data API may take to apply a new key set.
const RELOAD_WAIT: Duration = Duration::from_secs(10);
const RELOAD_POLL: Duration = Duration::from_millis(50);

/// The keys of one running stack.
pub struct StackKeys {
    initial: ProjectKeys,
    current: RwLock<ProjectKeys>,
    /// Serialises rotations; true once the keys differ from the start's.
    rotation: Mutex<bool>,
    servers: Weak<Servers>,
    issuer: String,
    /// Superuser, directly (not through the fault proxy): reconfiguring is not a request.
    db_url: String,
    /// The data API itself, directly, to see when it has applied a key set.
    rest_url: String,
    caches: service::CacheEpoch,
    http: reqwest::Client,
}

impl std::fmt::Debug for StackKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StackKeys")
            .field("profile", self.initial.profile())
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

/// Where a [`StackKeys`] applies what it does.
pub(super) struct Appliers {
    pub servers: Weak<Servers>,
    pub issuer: String,
    pub db_url: String,
    pub rest_port: u16,
    pub caches: service::CacheEpoch,
}

impl StackKeys {
    pub(super) fn new(keys: ProjectKeys, appliers: Appliers) -> StackKeys {
        StackKeys {
            current: RwLock::new(keys.clone()),
            initial: keys,
            rotation: Mutex::new(false),
            servers: appliers.servers,
            issuer: appliers.issuer,
            db_url: appliers.db_url,
            rest_url: format!("http://127.0.0.1:{}/", appliers.rest_port),
            caches: appliers.caches,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("a default reqwest client builds"),
        }
    }

    /// The keys now.
    pub fn current(&self) -> ProjectKeys {
        self.current.read().expect("keys lock").clone()
    }

    /// The keys the stack started with.
    pub fn initial(&self) -> &ProjectKeys {
        &self.initial
    }

    /// `GOTRUE_JWT_ISSUER`: `API_URL/auth/v1`, as the CLI sets it.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Generates a key (`supabase gen signing-key`) and publishes it as standby; its kid.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), harness::StackError> {
    /// use harness::signing::KeyAlgorithm;
    /// let stack = harness::Stack::start().await?;
    /// let next = stack.keys().add_standby(KeyAlgorithm::Es256).await?;
    /// stack.keys().promote(&next).await?; // new tokens are signed with `next`
    /// stack.keys().revoke(harness::signing::CLI_KID).await?; // its tokens: 403 bad_jwt
    /// # Ok(()) }
    /// ```
    pub async fn add_standby(&self, alg: KeyAlgorithm) -> Result<String, StackError> {
        self.rotate(&KeyAction::AddStandby(alg)).await
    }

    /// Makes the standby key `kid` sign; the key in use becomes previously used.
    pub async fn promote(&self, kid: &str) -> Result<String, StackError> {
        self.rotate(&KeyAction::Promote(KeySelector::Kid(kid.to_owned())))
            .await
    }

    /// Withdraws trust in the previously used key `kid`.
    pub async fn revoke(&self, kid: &str) -> Result<String, StackError> {
        self.rotate(&KeyAction::Revoke(KeySelector::Kid(kid.to_owned())))
            .await
    }

    /// Applies one rotation step to the auth server and the data API; the kid it acted on.
    pub async fn rotate(&self, action: &KeyAction) -> Result<String, StackError> {
        let mut rotated = self.rotation.lock().await;
        let before = self.current();
        let mut set = before.rotatable_key_set();
        let kid = set.apply(action).map_err(|source| StackError::Rotation {
            action: action.to_string(),
            reason: source.to_string(),
        })?;
        let next = before.clone().with_key_set(set);
        *rotated = true;
        self.install(&before, &next, false)
            .await
            .map_err(|reason| StackError::Rotation {
                action: action.to_string(),
                reason,
            })?;
        Ok(kid)
    }

    /// The start's keys again, and empty JWKS caches in the reference service's stages.
    pub async fn reset(&self) -> Result<(), StackError> {
        self.caches.reset();
        let mut rotated = self.rotation.lock().await;
        if !*rotated {
            return Ok(());
        }
        let before = self.current();
        self.install(&before, &self.initial.clone(), true)
            .await
            .map_err(|reason| StackError::Rotation {
                action: "restore the start's keys".to_owned(),
                reason,
            })?;
        *rotated = false;
        Ok(())
    }

    /// The auth server restarted with `next`, the data API reconfigured and seen to apply it.
    async fn install(
        &self,
        before: &ProjectKeys,
        next: &ProjectKeys,
        initial: bool,
    ) -> Result<(), String> {
        let servers = self
            .servers
            .upgrade()
            .ok_or_else(|| "the stack has stopped".to_owned())?;
        servers.restart_auth(next.auth_env(&self.issuer)).await?;
        *self.current.write().expect("keys lock") = next.clone();
        self.reconfigure_data_api(next, initial).await?;
        self.await_data_api(before.key_set(), next.key_set()).await
    }

    /// `pgrst.jwt_secret` of the authenticator role, and PostgREST told to reload it. At the
    /// start's keys the setting is removed, so the environment's `PGRST_JWT_SECRET` rules again.
    async fn reconfigure_data_api(&self, next: &ProjectKeys, initial: bool) -> Result<(), String> {
        let value = (!initial).then(|| next.postgrest_jwt_secret());
        set_jwt_secret(&self.db_url, value).await
    }

    /// Polls the data API until a token of every key involved is accepted or refused as `next`
    /// says: trusted keys' tokens pass, revoked or forgotten keys' get 401.
    async fn await_data_api(&self, before: &KeySet, next: &KeySet) -> Result<(), String> {
        let claims = json!({"role": "anon", "exp": unix_now() + 300});
        let claims = claims.as_object().expect("an object");
        let mut probes = Vec::new();
        for (key, _) in before.all().chain(next.all()) {
            if probes
                .iter()
                .any(|(kid, _, _): &(String, _, _)| kid == key.kid())
            {
                continue;
            }
            let trusted = next
                .all()
                .any(|(k, state)| k.kid() == key.kid() && state != KeyState::Revoked);
            let token = crate::signing::sign_as_issued(&KeySet::new(key.clone()), "", claims)
                .map_err(|e| format!("minting a probe token: {e}"))?;
            probes.push((key.kid().to_owned(), token, trusted));
        }
        let deadline = Instant::now() + RELOAD_WAIT;
        loop {
            let mut pending = None;
            for (kid, token, trusted) in &probes {
                let status = self
                    .http
                    .get(&self.rest_url)
                    .bearer_auth(token)
                    .send()
                    .await
                    .map(|response| response.status().as_u16());
                let applied = matches!(status, Ok(status) if (status == 401) != *trusted);
                if !applied {
                    pending = Some((kid.clone(), *trusted, status));
                    break;
                }
            }
            let Some((kid, trusted, status)) = pending else {
                return Ok(());
            };
            if Instant::now() >= deadline {
                let wanted = if trusted { "accept" } else { "refuse (401)" };
                let got = match status {
                    Ok(status) => format!("answered {status}"),
                    Err(e) => format!("did not answer: {e}"),
                };
                return Err(format!(
                    "the data API did not apply the new key set within {RELOAD_WAIT:?}: it \
                     should {wanted} a token of key {kid}, and {got}; see the data API's log"
                ));
            }
            tokio::time::sleep(RELOAD_POLL).await;
        }
    }
}

impl KeyControl for StackKeys {
    fn current(&self) -> ProjectKeys {
        StackKeys::current(self)
    }

    fn apply<'a>(&'a self, action: &'a KeyAction) -> KeyFuture<'a, String> {
        Box::pin(async move { self.rotate(action).await.map_err(|e| e.to_string()) })
    }

    fn reset(&self) -> KeyFuture<'_, ()> {
        Box::pin(async move { StackKeys::reset(self).await.map_err(|e| e.to_string()) })
    }
}

/// Sets (or with None resets) `pgrst.jwt_secret` of `authenticator` and notifies `pgrst`.
async fn set_jwt_secret(db_url: &str, value: Option<String>) -> Result<(), String> {
    let mut db = sqlx::PgConnection::connect(db_url)
        .await
        .map_err(|e| format!("connecting to the database to reconfigure the data API: {e}"))?;
    // (`sqlx::raw_sql` would do, but its future is not Send inside a boxed one.)
    let statement: String = match value {
        None => "ALTER ROLE authenticator RESET pgrst.jwt_secret".to_owned(),
        // ALTER ROLE takes no parameters: PostgreSQL quotes the value itself (%L).
        Some(value) => sqlx::query_scalar(
            "select format('ALTER ROLE authenticator SET pgrst.jwt_secret = %L', $1::text)",
        )
        .bind(value)
        .fetch_one(&mut db)
        .await
        .map_err(|e| format!("quoting the data API's key set: {e}"))?,
    };
    sqlx::query(&statement)
        .execute(&mut db)
        .await
        .map_err(|e| format!("setting the data API's key set: {e}"))?;
    sqlx::query("select pg_notify('pgrst', 'reload config')")
        .execute(&mut db)
        .await
        .map_err(|e| format!("asking the data API to reload its configuration: {e}"))?;
    Ok(())
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}
