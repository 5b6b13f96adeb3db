//! A running stack's keys, end to end: each profile as every component sees it (the auth
//! server's tokens and JWKS, through `API_URL/auth/v1` too; the data API; the gateway's opaque
//! keys), and each rotation state applied to the running stack: standby published, promoted
//! key signing, previously used key still valid, revoked key refused by the auth server (403
//! `bad_jwt`) and the data API (401), and the start's keys back after a reset.

use anyhow::{Context, Result, ensure};
use harness::Stack;
use harness::signing::{
    CLI_KID, KeyAlgorithm, KeyProfile, KeySet, KeyState, ProjectKeys, sign_as_issued,
};
use serde_json::{Value, json};

const PASSWORD: &str = "correct-horse-battery-staple";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap()
}

/// A session's access token: signed up, or signed in again.
async fn session(stack: &Stack, email: &str, path: &str) -> Result<String> {
    let body: Value = client()
        .post(format!("{}{path}", stack.auth_url()))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await?
        .json()
        .await?;
    body["access_token"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("{path} gave no session: {body}"))
}

async fn sign_up(stack: &Stack, email: &str) -> Result<String> {
    session(stack, email, "/signup").await
}

async fn sign_in(stack: &Stack, email: &str) -> Result<String> {
    session(stack, email, "/token?grant_type=password").await
}

/// `GET /user`: status and body.
async fn user(stack: &Stack, token: &str) -> Result<(u16, Value)> {
    let response = client()
        .get(format!("{}/user", stack.auth_url()))
        .bearer_auth(token)
        .header("x-supabase-api-version", "2024-01-01")
        .send()
        .await?;
    Ok((response.status().as_u16(), response.json().await?))
}

/// The data API through the gateway, as a client with the anon key and `token`: the status.
async fn data_api(stack: &Stack, token: &str) -> Result<u16> {
    let response = client()
        .get(format!("{}/sessions?select=id", stack.rest_url()))
        .header("apikey", stack.anon_key())
        .bearer_auth(token)
        .send()
        .await?;
    Ok(response.status().as_u16())
}

/// The kids `url` publishes, checking GoTrue's cache header on the way.
async fn published_kids(url: &str) -> Result<Vec<String>> {
    let response = client().get(url).send().await?;
    ensure!(
        response.status() == 200,
        "{url} answered {}",
        response.status()
    );
    ensure!(
        response.headers()["cache-control"] == "public, max-age=600",
        "{url}: {:?}",
        response.headers().get("cache-control")
    );
    let jwks: Value = response.json().await?;
    for key in jwks["keys"].as_array().context("a keys array")? {
        ensure!(key.get("d").is_none(), "a private key published: {key}");
        ensure!(key["kty"] != "oct", "a secret published: {key}");
    }
    Ok(jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["kid"].as_str().unwrap_or_default().to_owned())
        .collect())
}

/// The JWKS straight from GoTrue and through the gateway, which must agree.
async fn jwks_kids(stack: &Stack) -> Result<Vec<String>> {
    let direct = published_kids(&format!("{}/.well-known/jwks.json", stack.auth_url())).await?;
    let gateway = format!("{}/auth/v1/.well-known/jwks.json", stack.api_url());
    let through = published_kids(&gateway).await?;
    ensure!(direct == through, "GoTrue {direct:?}, gateway {through:?}");
    Ok(direct)
}

fn kid(token: &str) -> Option<String> {
    jsonwebtoken::decode_header(token).ok()?.kid
}

fn iss(token: &str) -> Value {
    harness::run::tokens::claims_of(token).unwrap()["iss"].clone()
}

#[tokio::test]
async fn the_cli_profile_reaches_every_component() -> Result<()> {
    let stack = Stack::builder().keys(KeyProfile::Cli).start().await?;
    let token = sign_up(&stack, "cli-everywhere@example.com").await?;
    let header = jsonwebtoken::decode_header(&token)?;
    assert_eq!(
        (header.alg, header.kid.as_deref()),
        (jsonwebtoken::Algorithm::ES256, Some(CLI_KID))
    );
    assert_eq!(
        iss(&token),
        format!("{}/auth/v1", stack.api_url()),
        "the CLI's issuer"
    );
    assert_eq!(jwks_kids(&stack).await?, [CLI_KID]);
    assert_eq!(
        data_api(&stack, &token).await?,
        200,
        "the data API trusts ES256"
    );
    // The HS256 service_role key still works beside the ES256 key.
    assert_eq!(data_api(&stack, stack.service_role_key()).await?, 200);
    stack.stop().await?;
    Ok(())
}

#[tokio::test]
async fn the_legacy_profile_is_hs256_only() -> Result<()> {
    let stack = Stack::builder().keys(KeyProfile::Legacy).start().await?;
    let token = sign_up(&stack, "legacy@example.com").await?;
    let header = jsonwebtoken::decode_header(&token)?;
    assert_eq!(
        (header.alg, header.kid),
        (jsonwebtoken::Algorithm::HS256, None)
    );
    assert_eq!(iss(&token), format!("{}/auth/v1", stack.api_url()));
    assert!(
        jwks_kids(&stack).await?.is_empty(),
        "{{\"keys\":[]}} for HS256 only"
    );
    assert_eq!(data_api(&stack, &token).await?, 200);
    stack.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_signing_keys_file_is_the_projects_keys() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("signing_keys.json");
    let key = harness::signing::SigningJwk::generate(KeyAlgorithm::Rs256)?;
    std::fs::write(&path, serde_json::to_string(&[&key])?)?;
    let stack = Stack::builder()
        .keys(KeyProfile::SigningKeysFile(path))
        .start()
        .await?;
    let token = sign_up(&stack, "own-keys@example.com").await?;
    assert_eq!(kid(&token).as_deref(), Some(key.kid()));
    assert_eq!(jwks_kids(&stack).await?, [key.kid()]);
    assert_eq!(data_api(&stack, &token).await?, 200);
    // The API keys are signed with the file's key too (cli#4778), and the gateway knows them.
    assert_eq!(kid(stack.anon_key()).as_deref(), Some(key.kid()));
    assert_eq!(data_api(&stack, stack.anon_key()).await?, 200);
    stack.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_projects_signing_keys_path_chooses_its_keys() -> Result<()> {
    let project = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/projects/signing-keys"
    );
    let file = format!("{project}/supabase/signing_keys.json");
    let keys = harness::signing::parse_signing_keys(&std::fs::read_to_string(&file)?, &file)?;
    let stack = Stack::builder().project(project).start().await?;
    assert_eq!(
        stack.keys().initial().profile(),
        &KeyProfile::SigningKeysFile(file.clone().into())
    );
    let token = sign_up(&stack, "project-keys@example.com").await?;
    assert_eq!(kid(&token).as_deref(), Some(keys[0].kid()));
    assert_eq!(jwks_kids(&stack).await?, [keys[0].kid()]);
    stack.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_bad_signing_keys_file_fails_the_start_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signing_keys.json");
    std::fs::write(
        &path,
        r#"[{"kty":"oct","k":"c2VjcmV0","alg":"HS256","key_ops":["sign"]}]"#,
    )
    .unwrap();
    let error = Stack::builder()
        .keys(KeyProfile::SigningKeysFile(path.clone()))
        .start()
        .await
        .unwrap_err();
    let text = format!("{error:?}");
    assert!(text.contains("loading the `file "), "{text}");
    assert!(text.contains(&path.display().to_string()), "{text}");
}

/// A token of `key` for the data API: what a client of that key's era would hold.
fn anon_token_of(keys: &ProjectKeys, kid: &str) -> String {
    let (jwk, _) = keys
        .key_set()
        .all()
        .find(|(jwk, _)| jwk.kid() == kid)
        .expect("the key is in the set");
    let claims = json!({"role": "authenticated", "sub": "00000000-0000-0000-0000-000000000000", "exp": 4_000_000_000i64});
    sign_as_issued(&KeySet::new(jwk.clone()), "", claims.as_object().unwrap()).unwrap()
}

#[tokio::test]
async fn each_rotation_state_reaches_the_auth_server_the_data_api_and_the_jwks() -> Result<()> {
    let stack = Stack::builder().keys(KeyProfile::Cli).start().await?;
    let email = "rotating@example.com";
    let before = sign_up(&stack, email).await?;
    let auth_pid = stack.auth_pid();

    // Standby: published everywhere, trusted by the data API, not signing yet.
    let next = stack.keys().add_standby(KeyAlgorithm::Es256).await?;
    assert_eq!(
        stack.keys().current().key_set().state(&next),
        Some(KeyState::Standby)
    );
    assert_ne!(stack.auth_pid(), auth_pid, "the auth server was restarted");
    assert_eq!(jwks_kids(&stack).await?, [CLI_KID, next.as_str()]);
    assert_eq!(
        kid(&sign_in(&stack, email).await?).as_deref(),
        Some(CLI_KID)
    );
    let standby_token = anon_token_of(&stack.keys().current(), &next);
    assert_eq!(data_api(&stack, &standby_token).await?, 200);

    // In use: the promoted key signs; the old key's tokens stay valid everywhere.
    assert_eq!(stack.keys().promote(&next).await?, next);
    let after = sign_in(&stack, email).await?;
    assert_eq!(kid(&after).as_deref(), Some(next.as_str()));
    assert_eq!(
        user(&stack, &before).await?.0,
        200,
        "previously used: still valid"
    );
    assert_eq!(data_api(&stack, &before).await?, 200);
    assert_eq!(jwks_kids(&stack).await?, [CLI_KID, next.as_str()]);

    // Revoked: gone from the JWKS, refused by the auth server and the data API at once.
    stack.keys().revoke(CLI_KID).await?;
    let (status, body) = user(&stack, &before).await?;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "bad_jwt");
    assert!(
        body["message"].as_str().unwrap().ends_with(&format!(
            "unrecognized JWT kid {CLI_KID} for algorithm ES256"
        )),
        "{body}"
    );
    assert_eq!(data_api(&stack, &before).await?, 401);
    assert_eq!(user(&stack, &after).await?.0, 200);
    assert_eq!(data_api(&stack, &after).await?, 200);
    assert_eq!(jwks_kids(&stack).await?, [next.as_str()]);

    // A step in the wrong state is refused, saying why, and changes nothing.
    let error = stack.keys().revoke(&next).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "cannot revoke {next}: cannot revoke key \"{next}\": it is in use, only a previously \
             used key can be"
        )
    );
    assert_eq!(jwks_kids(&stack).await?, [next.as_str()]);

    // Reset: the start's keys again, for whoever uses the stack next.
    stack.keys().reset().await?;
    assert_eq!(jwks_kids(&stack).await?, [CLI_KID]);
    assert_eq!(user(&stack, &before).await?.0, 200);
    assert_eq!(data_api(&stack, &before).await?, 200);
    assert_eq!(
        data_api(&stack, &standby_token).await?,
        401,
        "the scenario's key is forgotten"
    );
    stack.stop().await?;
    Ok(())
}

#[tokio::test]
async fn the_cli_upgrade_is_a_rotation_of_a_legacy_stack() -> Result<()> {
    let stack = Stack::builder().keys(KeyProfile::Legacy).start().await?;
    let email = "upgraded@example.com";
    let hs256 = sign_up(&stack, email).await?;
    let es256 = stack.keys().add_standby(KeyAlgorithm::Es256).await?;
    stack.keys().promote(&es256).await?;
    let after = sign_in(&stack, email).await?;
    assert_eq!(kid(&after).as_deref(), Some(es256.as_str()));
    // The HS256 tokens issued before stay valid: GoTrue falls back to the secret.
    assert_eq!(user(&stack, &hs256).await?.0, 200);
    assert_eq!(data_api(&stack, &hs256).await?, 200);
    assert_eq!(data_api(&stack, &after).await?, 200);
    stack.stop().await?;
    Ok(())
}
