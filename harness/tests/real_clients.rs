//! Clients nobody here wrote, against a `cli` stack: PyJWT's `PyJWKClient` and the Rust
//! `jsonwebtoken` crate verifying user tokens against the JWKS (at the auth server's root and
//! through the project URL) and dropping a revoked key, on a stack rotated while it runs; and
//! supabase-py given only the new API keys. The Python tests skip, saying so in one line, when
//! the package is not importable (pip line in the skip message; HARNESS_PYTHON or the
//! workspace's git-ignored `.venv` pick the interpreter).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, ensure};
use harness::Stack;
use harness::signing::{CLI_KID, KeyAlgorithm, KeyProfile};
use serde_json::{Value, json};

const PASSWORD: &str = "correct-horse-battery-staple";

/// HARNESS_PYTHON, else the workspace's `.venv`, else python3; None (after one line saying
/// what to install) when `import_line` fails there.
fn python_with(import_line: &str, pip: &str) -> Option<PathBuf> {
    let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/../.venv/bin/python");
    let python = std::env::var_os("HARNESS_PYTHON")
        .map(PathBuf::from)
        .or_else(|| Path::new(venv).exists().then(|| venv.into()))
        .unwrap_or_else(|| "python3".into());
    let importable = Command::new(&python)
        .args(["-c", import_line])
        .output()
        .is_ok_and(|out| out.status.success());
    if !importable {
        println!(
            "skipped: `{import_line}` fails with {} (pip install {pip}, or set HARNESS_PYTHON)",
            python.display()
        );
        return None;
    }
    Some(python)
}

/// Runs `script` (in harness/testdata) with `args`; its stdout as JSON. Awaited, not blocking:
/// the stack's gateway and fault proxy answer the script from this test's runtime.
async fn run_python(python: &Path, script: &str, args: &[&str]) -> Result<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(script);
    let out = tokio::process::Command::new(python)
        .arg(&path)
        .args(args)
        .kill_on_drop(true)
        .output()
        .await
        .with_context(|| format!("running {}", path.display()))?;
    ensure!(
        out.status.success(),
        "{script} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "{script} printed no JSON: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

async fn session(stack: &Stack, email: &str, path: &str) -> Result<String> {
    let body: Value = reqwest::Client::new()
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

/// Both places a verifier finds the JWKS: GoTrue's root, and through the gateway.
fn jwks_urls(stack: &Stack) -> [String; 2] {
    [
        format!("{}/.well-known/jwks.json", stack.auth_url()),
        format!("{}/auth/v1/.well-known/jwks.json", stack.api_url()),
    ]
}

/// PyJWT's verdict: Ok(claims) or Err("ErrorType: message").
async fn pyjwt(python: &Path, jwks_url: &str, token: &str) -> Result<Result<Value, String>> {
    let verdict = run_python(
        python,
        "pyjwt_verify.py",
        &[jwks_url, token, "authenticated"],
    )
    .await?;
    Ok(match verdict["error"].as_str() {
        None => Ok(verdict["claims"].clone()),
        Some(error) => Err(error.to_owned()),
    })
}

/// `jsonwebtoken`'s JWK support: the key by kid from the JWK Set at `url`, the CLI's issuer.
async fn jsonwebtoken_verdict(
    stack: &Stack,
    url: &str,
    token: &str,
) -> Result<Result<Value, String>> {
    let set: jsonwebtoken::jwk::JwkSet = reqwest::get(url).await?.json().await?;
    let header = jsonwebtoken::decode_header(token)?;
    let kid = header.kid.context("the token has a kid")?;
    let Some(jwk) = set.find(&kid) else {
        return Ok(Err(format!("kid {kid} is not in the JWKS")));
    };
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_audience(&["authenticated"]);
    validation.set_issuer(&[format!("{}/auth/v1", stack.api_url())]);
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk)?;
    Ok(jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| e.to_string()))
}

#[tokio::test]
async fn independent_verifiers_trust_the_jwks_at_both_urls_and_drop_a_revoked_key() -> Result<()> {
    let stack = Stack::builder().keys(KeyProfile::Cli).start().await?;
    let email = "independent@example.com";
    let before = session(&stack, email, "/signup").await?;
    assert_eq!(
        jsonwebtoken::decode_header(&before)?.kid.as_deref(),
        Some(CLI_KID)
    );
    for url in jwks_urls(&stack) {
        let claims = jsonwebtoken_verdict(&stack, &url, &before)
            .await?
            .map_err(anyhow::Error::msg)?;
        assert_eq!(claims["email"], email, "{url}");
    }

    // Rotated while running: a new key signs, the CLI's key is revoked.
    let next = stack.keys().add_standby(KeyAlgorithm::Es256).await?;
    stack.keys().promote(&next).await?;
    stack.keys().revoke(CLI_KID).await?;
    let after = session(&stack, email, "/token?grant_type=password").await?;
    for url in jwks_urls(&stack) {
        assert!(
            jsonwebtoken_verdict(&stack, &url, &after).await?.is_ok(),
            "{url}"
        );
        assert_eq!(
            jsonwebtoken_verdict(&stack, &url, &before).await?,
            Err(format!("kid {CLI_KID} is not in the JWKS")),
            "{url}"
        );
    }

    if let Some(python) = python_with("import jwt, cryptography", "'pyjwt[crypto]'") {
        for url in jwks_urls(&stack) {
            let claims = pyjwt(&python, &url, &after)
                .await?
                .map_err(anyhow::Error::msg)?;
            assert_eq!(claims["email"], email, "{url}");
            assert_eq!(claims["iss"], format!("{}/auth/v1", stack.api_url()));
            let refusal = pyjwt(&python, &url, &before)
                .await?
                .expect_err("PyJWT accepted the revoked key's token");
            assert!(
                refusal.starts_with("PyJWKClientError: Unable to find a signing key"),
                "{url}: {refusal}"
            );
        }
    }
    stack.stop().await?;
    Ok(())
}

#[tokio::test]
async fn supabase_py_works_with_only_the_publishable_and_secret_keys() -> Result<()> {
    let Some(python) = python_with("import supabase", "supabase") else {
        return Ok(());
    };
    let stack = Stack::builder().keys(KeyProfile::Cli).start().await?;
    let (publishable, secret) = (
        stack
            .publishable_key()
            .context("a cli stack has a publishable key")?,
        stack.secret_key().context("a cli stack has a secret key")?,
    );
    let email = "supabase-py@example.com";
    let out = run_python(
        &python,
        "supabase_py_flow.py",
        &[stack.api_url(), publishable, secret, email, PASSWORD],
    )
    .await?;
    let user_id = out["signed_up"].as_str().context("a user id")?;
    let token = out["access_token"].as_str().context("an access token")?;
    let header = jsonwebtoken::decode_header(token)?;
    assert_eq!(
        (header.alg, header.kid.as_deref()),
        (jsonwebtoken::Algorithm::ES256, Some(CLI_KID))
    );
    assert_eq!(out["inserted"][0]["user_id"], user_id, "{out}");
    assert_eq!(out["own_rows"].as_array().map(Vec::len), Some(1), "{out}");
    assert_eq!(out["get_user"], email);
    assert_eq!(
        out["anon_rows"],
        json!([]),
        "RLS hides the row from the key alone"
    );
    assert!(
        out["admin_listed"]
            .as_array()
            .is_some_and(|emails| emails.contains(&json!(email))),
        "{out}"
    );
    assert_eq!(out["admin_get"], email);
    assert_eq!(out["service_rows"], json!([{"user_id": user_id}]), "{out}");

    // The deletion reached the database (and took the session row with it).
    let db = sqlx::PgPool::connect(stack.db_url()).await?;
    let left: i64 = sqlx::query_scalar(
        "select (select count(*) from auth.users where id = $1::uuid) + \
         (select count(*) from public.sessions where user_id = $1::uuid)",
    )
    .bind(user_id)
    .fetch_one(&db)
    .await?;
    assert_eq!(left, 0);
    db.close().await;
    stack.stop().await?;
    Ok(())
}
