//! Reloading while serving: `NOTIFY pgrst, 'reload schema'` picks up new tables,
//! `'reload config'` the authenticator's `pgrst.*` settings (the harness rotates signing keys
//! this way), and a dropped LISTEN connection is reconnected.

mod rest_common;

use std::time::Duration;

use rest_common::*;
use serde_json::json;

const NEW_SECRET: &str = "a-rotated-secret-that-is-at-least-32-characters";
const EC_PEM: &str = include_str!("../../rest/testdata/es256-test-key.pem");
const EC_JWK: &str = include_str!("../../rest/testdata/es256-test-key.jwk.json");

/// Polls `check` until it holds (at most 5 s).
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} never happened");
}

async fn status(api: &Api, token: &str) -> u16 {
    api.get("/authors?limit=1")
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn schema_reload_on_notify() {
    let api = Api::start().await;
    assert_eq!(api.get("/late").send().await.unwrap().status(), 404);
    api.sql("create table public.late (id int primary key); insert into public.late values (1);")
        .await;
    api.sql("notify pgrst, 'reload schema'").await;
    eventually("the new table served", || async {
        api.get("/late").send().await.unwrap().status() == 200
    })
    .await;
    let (_, _, body) = parts(api.get("/late").send().await.unwrap()).await;
    assert_eq!(body, json!([{"id": 1}]));

    // The listener's connection is killed; the server reconnects (and reloads on its own).
    api.sql("select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'postgrest-listener'").await;
    api.sql("create table public.later (id int)").await;
    eventually("reload after the listener reconnected", || async {
        api.sql("notify pgrst, 'reload schema'").await;
        api.get("/later").send().await.unwrap().status() == 200
    })
    .await;
}

#[tokio::test]
async fn jwt_secret_rotated_in_the_database() {
    let api = Api::start().await;
    let old = api.stack.service_role_key().to_owned();
    let new = sign(json!({"role": "service_role"}), NEW_SECRET);
    assert_eq!(status(&api, &old).await, 200);
    assert_eq!(status(&api, &new).await, 401);

    api.sql(&format!(
        "alter role authenticator set pgrst.jwt_secret = '{NEW_SECRET}'"
    ))
    .await;
    api.sql("notify pgrst, 'reload config'").await;
    eventually("the rotated secret accepted", || async {
        status(&api, &new).await == 200
    })
    .await;
    let (code, _, body) = parts(api.get("/authors").bearer_auth(&old).send().await.unwrap()).await;
    assert_eq!(code, 401);
    assert_eq!(body["message"], "No suitable key or wrong key type");

    // To a JWKS with the legacy key and an ES256 key: both kinds verify.
    use base64::Engine;
    let k = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(api.stack.jwt_secret());
    let jwks = format!(r#"{{"keys":[{{"kty":"oct","k":"{k}"}},{EC_JWK}]}}"#);
    api.sql(&format!(
        "alter role authenticator set pgrst.jwt_secret = '{jwks}'"
    ))
    .await;
    api.sql("notify pgrst, 'reload config'").await;
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some("test-es256".into());
    let es = jsonwebtoken::encode(
        &header,
        &json!({"role": "authenticated"}),
        &jsonwebtoken::EncodingKey::from_ec_pem(EC_PEM.as_bytes()).unwrap(),
    )
    .unwrap();
    eventually("the ES256 key accepted", || async {
        status(&api, &es).await == 200
    })
    .await;
    assert_eq!(
        status(&api, &old).await,
        200,
        "the legacy HS256 key is in the set"
    );
    assert_eq!(status(&api, &new).await, 401);
}

#[tokio::test]
async fn in_database_settings_apply_at_start() {
    let api = Api::start_with_sql(
        "alter role authenticator set pgrst.jwt_aud = 'only-this'; \
         alter role authenticator set pgrst.db_anon_role = 'authenticated';",
        &[],
    )
    .await;
    let (_, _, body) = parts(api.get("/rpc/whoami").send().await.unwrap()).await;
    assert_eq!(
        body,
        json!("authenticated"),
        "db_anon_role from the database"
    );
    let token = sign(
        json!({"aud": "other", "role": "anon"}),
        api.stack.jwt_secret(),
    );
    let (code, _, body) = parts(
        api.get("/authors")
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (code, body["message"].as_str()),
        (401, Some("JWT not in audience"))
    );
}

#[tokio::test]
async fn db_config_off_ignores_the_database() {
    let api = Api::start_with_sql(
        "alter role authenticator set pgrst.db_anon_role = 'authenticated';",
        &[("PGRST_DB_CONFIG", "false")],
    )
    .await;
    let (_, _, body) = parts(api.get("/rpc/whoami").send().await.unwrap()).await;
    assert_eq!(body, json!("anon"));
}

#[tokio::test]
async fn a_missing_exposed_schema_fails_the_schema_cache() {
    // PostgREST 13 (#3644): the cache load fails, so requests get PGRST002, not an empty API.
    let probe = Api::start().await;
    let stack = probe.into_stack().await;
    let config = rest::Config::from_pairs([
        ("PGRST_DB_URI", stack.authenticator_db_url()),
        ("PGRST_DB_SCHEMAS", "public,nowhere".into()),
        ("PGRST_DB_ANON_ROLE", "anon".into()),
    ])
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(rest::serve(config, listener, async {
        let _ = rx.await;
    }));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, _, body) = parts(reqwest::get(format!("{url}/authors")).await.unwrap()).await;
    assert_eq!(status, 503, "{body}");
    assert_error(&body, "PGRST002");
    let _ = tx.send(());
    server.await.unwrap().unwrap();
}
