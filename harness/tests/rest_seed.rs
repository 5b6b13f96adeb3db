//! The seed's cases on `public.sessions` (RLS: only the signed-in user inserts and reads
//! their own rows), as supabase-js sends them.

mod rest_common;

use rest_common::*;
use serde_json::json;

const OBJECT: &str = "application/vnd.pgrst.object+json";

#[tokio::test]
async fn anon_insert_is_refused_by_rls_with_401() {
    let api = Api::start().await;
    let (user_id, _) = api.user("seed-anon@example.com").await;
    let r = api
        .post("/sessions?select=id", json!({"user_id": user_id}))
        .bearer_auth(api.stack.anon_key())
        .header("Prefer", "return=representation")
        .header("Accept", OBJECT)
        .send()
        .await
        .unwrap();
    let (status, headers, body) = parts(r).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(header(&headers, "www-authenticate"), Some("Bearer"));
    assert_error(&body, "42501");
    assert_eq!(
        body["message"],
        "new row violates row-level security policy for table \"sessions\""
    );
    assert_eq!(
        header(&headers, "proxy-status"),
        Some("PostgREST; error=42501")
    );
}

#[tokio::test]
async fn user_insert_returns_the_single_row() {
    let api = Api::start().await;
    let (user_id, token) = api.user("seed-user@example.com").await;
    let r = api
        .post("/sessions?select=id", json!({"user_id": user_id}))
        .bearer_auth(&token)
        .header("Prefer", "return=representation")
        .header("Accept", OBJECT)
        .header("Content-Profile", "public")
        .send()
        .await
        .unwrap();
    let (status, headers, body) = parts(r).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        header(&headers, "content-type"),
        Some("application/vnd.pgrst.object+json; charset=utf-8")
    );
    let id = body["id"].as_str().expect("an id");
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    let n: i64 = api
        .scalar(&format!(
            "select count(*) from public.sessions where id = '{id}'"
        ))
        .await;
    assert_eq!(n, 1);
}

#[tokio::test]
async fn single_on_zero_rows_is_406_and_writes_nothing() {
    let api = Api::start().await;
    let (_, token) = api.user("seed-zero@example.com").await;
    // An empty array inserts nothing: the singular answer is refused and rolled back.
    let r = api
        .post("/sessions?select=id", json!([]))
        .bearer_auth(&token)
        .header("Prefer", "return=representation")
        .header("Accept", OBJECT)
        .send()
        .await
        .unwrap();
    let (status, _, body) = parts(r).await;
    assert_eq!(status, 406, "{body}");
    assert_error(&body, "PGRST116");
    assert_eq!(
        body["message"],
        "Cannot coerce the result to a single JSON object"
    );
    assert_eq!(body["details"], "The result contains 0 rows");

    // Two rows: refused, and neither is left behind.
    let (user_id, token) = api.user("seed-two@example.com").await;
    let r = api
        .post(
            "/sessions?select=id",
            json!([{"user_id": user_id}, {"user_id": user_id}]),
        )
        .bearer_auth(&token)
        .header("Prefer", "return=representation")
        .header("Accept", OBJECT)
        .send()
        .await
        .unwrap();
    let (status, _, body) = parts(r).await;
    assert_eq!(status, 406, "{body}");
    assert_eq!(body["details"], "The result contains 2 rows");
    let n: i64 = api.scalar("select count(*) from public.sessions").await;
    assert_eq!(n, 0, "the refused insert was rolled back");
}

#[tokio::test]
async fn user_reads_only_their_sessions() {
    let api = Api::start().await;
    let (a, token_a) = api.user("seed-a@example.com").await;
    let (b, _) = api.user("seed-b@example.com").await;
    api.sql(&format!(
        "insert into public.sessions (user_id) values ('{a}'), ('{b}'), ('{b}')"
    ))
    .await;
    let r = api
        .get("/sessions?select=user_id")
        .bearer_auth(&token_a)
        .send()
        .await
        .unwrap();
    let (status, _, body) = parts(r).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!([{"user_id": a}]));
    // Anon sees nothing (no policy), which is an empty 200, not an error.
    let r = api
        .get("/sessions")
        .bearer_auth(api.stack.anon_key())
        .send()
        .await
        .unwrap();
    let (status, _, body) = parts(r).await;
    assert_eq!((status, body), (200, json!([])));
}
