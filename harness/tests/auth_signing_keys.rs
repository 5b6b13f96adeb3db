//! Today's signing keys on the real stack: the auth server started with the `cli` profile's
//! ES256 key (through `StackBuilder::auth_env`), a rotation walked through restarts of the auth
//! server on one port, every key token kind against GoTrue's answers, and two verifiers nobody
//! here wrote (`jsonwebtoken`'s JWK Set decoding, and Python's PyJWT with its `PyJWKClient`)
//! trusting `/.well-known/jwks.json` and dropping a revoked key.

use std::net::SocketAddr;

use anyhow::{Context, Result, ensure};
use harness::signing::{
    Attacker, CLI_KID, KeyAlgorithm, KeySet, KeyState, KeyTokenKind, ProjectKeys, SigningJwk, mint,
};
use serde_json::{Value, json};

const ISSUER: &str = "http://127.0.0.1:54321/auth/v1";
const PASSWORD: &str = "correct-horse-battery-staple";

async fn stack_with(keys: &ProjectKeys) -> Result<harness::Stack> {
    let mut builder = harness::Stack::builder().fault_proxy(false);
    for (name, value) in keys.auth_env(ISSUER) {
        builder = builder.auth_env(name, value);
    }
    builder.start().await.context("starting the stack")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Signs up a new user and returns the session's access token.
async fn sign_up(auth_url: &str, email: &str) -> Result<String> {
    let res = client()
        .post(format!("{auth_url}/signup"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await?;
    let body: Value = res.json().await?;
    body["access_token"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("POST /signup gave no session: {body}"))
}

async fn sign_in(auth_url: &str, email: &str) -> Result<String> {
    let res = client()
        .post(format!("{auth_url}/token?grant_type=password"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await?;
    let body: Value = res.json().await?;
    body["access_token"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("password sign-in gave no session: {body}"))
}

/// `GET /user` with `token`: the status and, on an error, GoTrue's `{code, message}`.
async fn user(auth_url: &str, token: &str) -> Result<(u16, Value)> {
    let res = client()
        .get(format!("{auth_url}/user"))
        .bearer_auth(token)
        .header("x-supabase-api-version", "2024-01-01")
        .send()
        .await?;
    Ok((res.status().as_u16(), res.json().await?))
}

async fn jwks(auth_url: &str) -> Result<(reqwest::header::HeaderMap, Value)> {
    let res = client()
        .get(format!("{auth_url}/.well-known/jwks.json"))
        .send()
        .await?;
    ensure!(res.status() == 200, "JWKS answered {}", res.status());
    Ok((res.headers().clone(), res.json().await?))
}

fn header(token: &str) -> Value {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.split('.').next().unwrap())
        .unwrap();
    serde_json::from_slice(&raw).unwrap()
}

/// Verifies `token` against the published key set with `jsonwebtoken`'s own JWK decoding.
fn verify_with_jsonwebtoken(jwks: &Value, token: &str) -> Result<Value, String> {
    use jsonwebtoken::jwk::JwkSet;
    let set: JwkSet = serde_json::from_value(jwks.clone()).map_err(|e| e.to_string())?;
    let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    let kid = header.kid.ok_or("no kid")?;
    let jwk = set
        .find(&kid)
        .ok_or(format!("kid {kid} is not in the JWKS"))?;
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_audience(&["authenticated"]);
    validation.set_issuer(&[ISSUER]);
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn the_cli_profile_signs_user_tokens_es256_and_keeps_the_hs256_api_keys() -> Result<()> {
    let keys = ProjectKeys::cli();
    let stack = stack_with(&keys).await?;
    let token = sign_up(stack.auth_url(), "cli-profile@example.com").await?;
    assert_eq!(
        header(&token),
        json!({"alg": "ES256", "kid": CLI_KID, "typ": "JWT"})
    );
    let (status, body) = user(stack.auth_url(), &token).await?;
    assert_eq!(status, 200, "{body}");

    let (headers, published) = jwks(stack.auth_url()).await?;
    assert_eq!(headers["cache-control"], "public, max-age=600");
    assert_eq!(published, keys.key_set().jwks()?);
    let claims = verify_with_jsonwebtoken(&published, &token).map_err(anyhow::Error::msg)?;
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["email"], "cli-profile@example.com");

    // The HS256 API keys still work beside the ES256 key (the #2072 fallback).
    for (key, status) in [(keys.service_role_key(), 200), (keys.anon_key(), 403)] {
        let res = client()
            .get(format!("{}/admin/users", stack.auth_url()))
            .bearer_auth(key)
            .send()
            .await?;
        assert_eq!(res.status().as_u16(), status);
    }
    stack.stop().await?;
    Ok(())
}

/// The auth server in-process on `address`, configured like the stack's but with `keys`.
struct AuthServer {
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<()>>,
    url: String,
}

impl AuthServer {
    async fn start(
        stack: &harness::Stack,
        keys: &ProjectKeys,
        address: SocketAddr,
    ) -> Result<Self> {
        let url = format!("http://{address}");
        let database_url = stack.role_db_url("supabase_auth_admin");
        let mut env = vec![
            ("GOTRUE_DB_DRIVER".to_owned(), "postgres".to_owned()),
            ("GOTRUE_DB_DATABASE_URL".into(), database_url),
            ("API_EXTERNAL_URL".into(), url.clone()),
            ("GOTRUE_SITE_URL".into(), "http://127.0.0.1:3000".into()),
            ("GOTRUE_JWT_AUD".into(), "authenticated".into()),
            (
                "GOTRUE_JWT_DEFAULT_GROUP_NAME".into(),
                "authenticated".into(),
            ),
            ("GOTRUE_MAILER_AUTOCONFIRM".into(), "true".into()),
        ];
        env.extend(keys.auth_env(ISSUER));
        let config = auth::Config::from_pairs(env).context("the rotated keys' configuration")?;
        let listener = tokio::net::TcpListener::bind(address).await?;
        let (shutdown, signal) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(auth::serve(config, listener, async {
            let _ = signal.await;
        }));
        Ok(AuthServer {
            shutdown: Some(shutdown),
            task,
            url,
        })
    }

    async fn stop(mut self) -> Result<()> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        (&mut self.task).await?
    }
}

#[tokio::test]
async fn a_rotation_keeps_old_tokens_until_their_key_is_revoked() -> Result<()> {
    let keys = ProjectKeys::cli();
    let stack = stack_with(&keys).await?;
    let email = "rotation@example.com";
    let before = sign_up(stack.auth_url(), email).await?;
    let address: SocketAddr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
        probe.local_addr()?
    };

    let mut set = keys.key_set().clone();
    let next = set.add_standby(KeyAlgorithm::Es256)?;
    let standby =
        AuthServer::start(&stack, &keys.clone().with_key_set(set.clone()), address).await?;
    let (_, published) = jwks(&standby.url).await?;
    assert_eq!(
        published,
        set.jwks()?,
        "a standby key is published before it signs"
    );
    assert_eq!(header(&sign_in(&standby.url, email).await?)["kid"], CLI_KID);
    standby.stop().await?;

    set.promote(&next)?;
    let rotated =
        AuthServer::start(&stack, &keys.clone().with_key_set(set.clone()), address).await?;
    let after = sign_in(&rotated.url, email).await?;
    assert_eq!(
        header(&after)["kid"],
        next.as_str(),
        "the promoted key signs"
    );
    let (status, body) = user(&rotated.url, &before).await?;
    assert_eq!(
        status, 200,
        "a previously used key's token still works: {body}"
    );
    rotated.stop().await?;

    set.revoke(CLI_KID)?;
    let revoked =
        AuthServer::start(&stack, &keys.clone().with_key_set(set.clone()), address).await?;
    let (status, body) = user(&revoked.url, &before).await?;
    assert_eq!(
        (status, body),
        (
            403,
            json!({
                "code": "bad_jwt",
                "message": format!("invalid JWT: unable to parse or verify signature, token is unverifiable: error while executing keyfunc: unrecognized JWT kid {CLI_KID} for algorithm ES256")
            })
        )
    );
    assert_eq!(user(&revoked.url, &after).await?.0, 200);
    let (_, published) = jwks(&revoked.url).await?;
    assert_eq!(published["keys"].as_array().map(Vec::len), Some(1));
    assert_eq!(published["keys"][0]["kid"], next.as_str());
    revoked.stop().await?;
    stack.stop().await?;
    Ok(())
}

/// A key set with a key of each state but standby: revoked R, previously used P, in use N.
fn lived_key_set() -> Result<(KeySet, String, String, String)> {
    let mut set = KeySet::new(SigningJwk::generate(KeyAlgorithm::Es256)?);
    let revoked = set.in_use().unwrap().kid().to_owned();
    let previous = set.add_standby(KeyAlgorithm::Es256)?;
    set.promote(&previous)?;
    set.revoke(&revoked)?;
    let in_use = set.add_standby(KeyAlgorithm::Es256)?;
    set.promote(&in_use)?;
    assert_eq!(set.state(&previous), Some(KeyState::PreviouslyUsed));
    Ok((set, revoked, previous, in_use))
}

#[tokio::test]
async fn every_key_token_kind_gets_gotrues_answer_from_the_real_auth_server() -> Result<()> {
    let (set, revoked, _, in_use) = lived_key_set()?;
    let keys = ProjectKeys::cli().with_key_set(set.clone());
    let stack = stack_with(&keys).await?;
    let valid = sign_up(stack.auth_url(), "attacked@example.com").await?;
    assert_eq!(header(&valid)["kid"], in_use.as_str());
    let attacker = Attacker::new();
    let attacker_kid = attacker.es256_key()?.kid().to_owned();
    let unrecognized = |kid: &str| {
        format!(
            "token is unverifiable: error while executing keyfunc: unrecognized JWT kid {kid} for algorithm ES256"
        )
    };
    let cases: [(KeyTokenKind, Option<String>); 10] = [
        (KeyTokenKind::Es256, None),
        (KeyTokenKind::Hs256Legacy, None),
        (KeyTokenKind::PreviouslyUsedKey, None),
        (KeyTokenKind::RevokedKey, Some(unrecognized(&revoked))),
        (KeyTokenKind::UnknownKid, Some(unrecognized("no-such-key-0000"))),
        (
            KeyTokenKind::KeyConfusion,
            Some("token signature is invalid: key is of invalid type: HMAC verify expects []byte".into()),
        ),
        (KeyTokenKind::EmbeddedJwk, Some(unrecognized("<nil>"))),
        (KeyTokenKind::Jku, Some(unrecognized(&attacker_kid))),
        (
            KeyTokenKind::WrongAlg,
            Some("token signature is invalid: key is of invalid type: RSA verify expects *rsa.PublicKey".into()),
        ),
        (
            KeyTokenKind::WrongCurve,
            Some("token signature is invalid: crypto/ecdsa: verification error".into()),
        ),
    ];
    for (kind, refusal) in cases {
        let token = mint(kind, &valid, &set, keys.jwt_secret(), &attacker)?;
        let (status, body) = user(stack.auth_url(), &token).await?;
        match refusal {
            None => assert_eq!(status, 200, "{kind}: {body}"),
            Some(reason) => assert_eq!(
                (status, body),
                (
                    403,
                    json!({
                        "code": "bad_jwt",
                        "message": format!("invalid JWT: unable to parse or verify signature, {reason}")
                    })
                ),
                "{kind}"
            ),
        }
    }
    stack.stop().await?;
    Ok(())
}

/// The Python to run PyJWT with: HARNESS_PYTHON, else the workspace's `.venv`, else python3;
/// None (and one line saying so) when PyJWT with its crypto extra is not importable.
fn python_with_pyjwt() -> Option<std::path::PathBuf> {
    let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/../.venv/bin/python");
    let candidate = std::env::var_os("HARNESS_PYTHON")
        .map(std::path::PathBuf::from)
        .or_else(|| std::path::Path::new(venv).exists().then(|| venv.into()))
        .unwrap_or_else(|| "python3".into());
    let importable = std::process::Command::new(&candidate)
        .args(["-c", "import jwt, cryptography"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !importable {
        println!(
            "skipped: PyJWT is not importable by {} (pip install 'pyjwt[crypto]', or set HARNESS_PYTHON)",
            candidate.display()
        );
        return None;
    }
    Some(candidate)
}

/// PyJWT's verdict on `token` against `jwks_url`: Ok(claims) or Err("ErrorType: message").
fn pyjwt(python: &std::path::Path, jwks_url: &str, token: &str) -> Result<Result<Value, String>> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/pyjwt_verify.py");
    let out = std::process::Command::new(python)
        .args([script, jwks_url, token, "authenticated"])
        .output()
        .context("running PyJWT")?;
    ensure!(
        out.status.success(),
        "pyjwt_verify.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verdict: Value = serde_json::from_slice(&out.stdout)?;
    Ok(match verdict["error"].as_str() {
        None => Ok(verdict["claims"].clone()),
        Some(error) => Err(error.to_owned()),
    })
}

#[tokio::test]
async fn independent_verifiers_trust_the_jwks_and_drop_a_revoked_key() -> Result<()> {
    let (set, _, _, _) = lived_key_set()?;
    let keys = ProjectKeys::cli().with_key_set(set.clone());
    let stack = stack_with(&keys).await?;
    let valid = sign_up(stack.auth_url(), "verified@example.com").await?;
    let attacker = Attacker::new();
    let token = |kind| mint(kind, &valid, &set, keys.jwt_secret(), &attacker);
    let (_, published) = jwks(stack.auth_url()).await?;

    // jsonwebtoken's JWK Set decoding, always available.
    let claims = verify_with_jsonwebtoken(&published, &valid).map_err(anyhow::Error::msg)?;
    assert_eq!(claims["email"], "verified@example.com");
    assert!(verify_with_jsonwebtoken(&published, &token(KeyTokenKind::PreviouslyUsedKey)?).is_ok());
    let revoked = verify_with_jsonwebtoken(&published, &token(KeyTokenKind::RevokedKey)?);
    assert!(revoked.unwrap_err().ends_with("is not in the JWKS"));

    // PyJWT's PyJWKClient fetching the JWKS itself.
    if let Some(python) = python_with_pyjwt() {
        let url = format!("{}/.well-known/jwks.json", stack.auth_url());
        let claims = pyjwt(&python, &url, &valid)?.map_err(anyhow::Error::msg)?;
        assert_eq!(claims["email"], "verified@example.com");
        assert!(pyjwt(&python, &url, &token(KeyTokenKind::PreviouslyUsedKey)?)?.is_ok());
        for (kind, error) in [
            (
                KeyTokenKind::RevokedKey,
                "PyJWKClientError: Unable to find a signing key",
            ),
            (
                KeyTokenKind::Jku,
                "PyJWKClientError: Unable to find a signing key",
            ),
            (KeyTokenKind::KeyConfusion, "InvalidAlgorithmError"),
            (KeyTokenKind::WrongCurve, "InvalidSignatureError"),
        ] {
            let verdict = pyjwt(&python, &url, &token(kind)?)?;
            let refusal = verdict.expect_err(&format!("PyJWT accepted a {kind} token"));
            assert!(refusal.starts_with(error), "{kind}: {refusal}");
        }
    }
    stack.stop().await?;
    Ok(())
}
