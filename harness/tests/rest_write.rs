//! Writes against real PostgreSQL: insert, upsert, update, delete, PUT, with the statuses,
//! `Content-Range`, `Location` and `Preference-Applied` of contract §3.1/§3.2, and the
//! SQLSTATEs real constraint violations raise. The cases run in order on one database.

mod rest_common;

use rest_common::*;
use serde_json::json;

const REP: &[(&str, &str)] = &[("Prefer", "return=representation")];

#[tokio::test]
async fn writes() {
    let api = Api::start().await;
    api.check(vec![
        Case { name: "insert, minimal: 201 and no body", method: "POST", path: "/items", body: Some(json!({"id": 10, "name": "ten"})), status: 201, expect: Some(serde_json::Value::Null), expect_headers: &[("content-range", "*/*")], ..Case::default() },
        Case { name: "insert, representation", method: "POST", path: "/items", headers: REP, body: Some(json!({"id": 11, "name": "eleven"})), status: 201, expect: Some(json!([{"id": 11, "name": "eleven", "qty": 0}])), expect_headers: &[("preference-applied", "return=representation"), ("content-type", "application/json; charset=utf-8")], ..Case::default() },
        Case { name: "insert, select narrows the representation", method: "POST", path: "/items?select=id", headers: REP, body: Some(json!({"id": 16})), status: 201, expect: Some(json!([{"id": 16}])), ..Case::default() },
        Case { name: "array with columns: missing keys are null", method: "POST", path: "/items?columns=id,name", headers: REP, body: Some(json!([{"id": 12, "name": "a"}, {"id": 13}])), status: 201, expect: Some(json!([{"id": 12, "name": "a", "qty": 0}, {"id": 13, "name": null, "qty": 0}])), ..Case::default() },
        Case { name: "missing=default takes the defaults", method: "POST", path: "/items?columns=id,name,qty", headers: &[("Prefer", "return=representation,missing=default")], body: Some(json!([{"id": 14, "name": "x"}, {"id": 15, "name": "y", "qty": 5}])), status: 201, expect: Some(json!([{"id": 14, "name": "x", "qty": 0}, {"id": 15, "name": "y", "qty": 5}])), ..Case::default() },
        Case { name: "counted insert", method: "POST", path: "/items", headers: &[("Prefer", "count=exact")], body: Some(json!([{"id": 17}, {"id": 18}])), status: 201, expect_headers: &[("content-range", "*/2")], ..Case::default() },
        Case { name: "keys must match", method: "POST", path: "/items", body: Some(json!([{"id": 1}, {"name": "x"}])), status: 400, expect: Some(json!({"code": "PGRST102", "message": "All object keys must match", "details": null, "hint": null})), ..Case::default() },
        Case { name: "unknown payload column: PGRST204", method: "POST", path: "/items", body: Some(json!({"id": 1, "nope": 2})), status: 400, expect: Some(json!({"code": "PGRST204", "message": "Could not find the 'nope' column of 'items' in the schema cache", "details": null, "hint": null})), ..Case::default() },
        Case { name: "unknown columns= entry: PGRST204", method: "POST", path: "/items?columns=id,nope", body: Some(json!({"id": 1})), status: 400, code: Some("PGRST204"), ..Case::default() },
        Case { name: "invalid json", method: "POST", path: "/items", headers: &[("Content-Type", "application/json")], body: Some(json!("just a string")), status: 400, expect: Some(json!({"code": "PGRST102", "message": "Empty or invalid json", "details": null, "hint": null})), ..Case::default() },
        Case { name: "unique violation: 409", method: "POST", path: "/items", body: Some(json!({"id": 10})), status: 409, expect: Some(json!({"code": "23505", "message": "duplicate key value violates unique constraint \"items_pkey\"", "details": "Key (id)=(10) already exists.", "hint": null})), ..Case::default() },
        Case { name: "foreign key violation: 409", method: "POST", path: "/books", body: Some(json!({"title": "x", "author_id": 99})), status: 409, code: Some("23503"), ..Case::default() },
        Case { name: "not null violation: 400", method: "POST", path: "/books", body: Some(json!({"year": 1})), status: 400, code: Some("23502"), ..Case::default() },
        Case { name: "check violation: 400", method: "POST", path: "/books", body: Some(json!({"title": "x", "price": -1})), status: 400, code: Some("23514"), ..Case::default() },
        Case { name: "bad value for the column type: 400", method: "POST", path: "/items", body: Some(json!({"id": "abc"})), status: 400, code: Some("22P02"), ..Case::default() },
        Case { name: "merge upsert, nothing inserted: 200", method: "POST", path: "/items", headers: &[("Prefer", "resolution=merge-duplicates,return=representation")], body: Some(json!({"id": 10, "name": "TEN"})), status: 200, expect: Some(json!([{"id": 10, "name": "TEN", "qty": 0}])), expect_headers: &[("preference-applied", "resolution=merge-duplicates, return=representation")], ..Case::default() },
        Case { name: "merge upsert inserting one: 201", method: "POST", path: "/items", headers: &[("Prefer", "resolution=merge-duplicates")], body: Some(json!([{"id": 10, "name": "ten"}, {"id": 19, "name": "nineteen"}])), status: 201, expect: Some(serde_json::Value::Null), ..Case::default() },
        Case { name: "ignore upsert skipping all: 201 []", method: "POST", path: "/items", headers: &[("Prefer", "resolution=ignore-duplicates,return=representation")], body: Some(json!({"id": 10, "name": "ignored"})), status: 201, expect: Some(json!([])), expect_headers: &[("preference-applied", "resolution=ignore-duplicates, return=representation")], ..Case::default() },
        Case { name: "on_conflict on a unique column", method: "POST", path: "/authors?on_conflict=name&select=name,country", headers: &[("Prefer", "resolution=merge-duplicates,return=representation")], body: Some(json!({"name": "Ursula", "country": "XX"})), status: 200, expect: Some(json!([{"name": "Ursula", "country": "XX"}])), ..Case::default() },
        Case { name: "on_conflict without a unique constraint: 42P10", method: "POST", path: "/authors?on_conflict=country", headers: &[("Prefer", "resolution=merge-duplicates")], body: Some(json!({"name": "Z", "country": "XX"})), status: 400, code: Some("42P10"), ..Case::default() },
        Case { name: "resolution ignored without a key", method: "POST", path: "/nopk", headers: &[("Prefer", "resolution=merge-duplicates")], body: Some(json!({"a": 1, "b": "x"})), status: 201, expect_headers: &[], ..Case::default() },
        Case { name: "headers-only gives Location", method: "POST", path: "/items", headers: &[("Prefer", "return=headers-only")], body: Some(json!({"id": 20})), status: 201, expect: Some(serde_json::Value::Null), expect_headers: &[("location", "/items?id=eq.20"), ("preference-applied", "return=headers-only")], ..Case::default() },
        Case { name: "insert singular", method: "POST", path: "/items", headers: &[("Prefer", "return=representation"), ("Accept", "application/vnd.pgrst.object+json")], body: Some(json!({"id": 21})), status: 201, expect: Some(json!({"id": 21, "name": null, "qty": 0})), ..Case::default() },
        Case { name: "update, minimal: 204", method: "PATCH", path: "/items?id=eq.10", body: Some(json!({"qty": 7})), status: 204, expect: Some(serde_json::Value::Null), expect_headers: &[("content-range", "0-0/*")], ..Case::default() },
        Case { name: "update, representation: 200", method: "PATCH", path: "/items?id=in.(10,11)&select=id,qty", headers: &[("Prefer", "return=representation,count=exact")], body: Some(json!({"qty": 8})), status: 200, expect: Some(json!([{"id": 10, "qty": 8}, {"id": 11, "qty": 8}])), expect_headers: &[("content-range", "0-1/2")], ..Case::default() },
        Case { name: "update matching nothing: 204", method: "PATCH", path: "/items?id=eq.999", body: Some(json!({"qty": 1})), status: 204, expect_headers: &[("content-range", "*/*")], ..Case::default() },
        Case { name: "update matching nothing, representation: []", method: "PATCH", path: "/items?id=eq.999", headers: REP, body: Some(json!({"qty": 1})), status: 200, expect: Some(json!([])), ..Case::default() },
        Case { name: "update unknown column: PGRST204", method: "PATCH", path: "/items?id=eq.10", body: Some(json!({"nope": 1})), status: 400, code: Some("PGRST204"), ..Case::default() },
        Case { name: "max-affected exceeded: 400, rolled back", method: "PATCH", path: "/items?id=gte.10", headers: &[("Prefer", "handling=strict,max-affected=1")], body: Some(json!({"qty": 99})), status: 400, expect: Some(json!({"code": "PGRST124", "message": "Query result exceeds max-affected preference constraint", "details": "The query affects 12 rows", "hint": null})), ..Case::default() },
        Case { name: "strict with an unknown preference: PGRST122", method: "PATCH", path: "/items?id=eq.10", headers: &[("Prefer", "handling=strict,bogus=1")], body: Some(json!({"qty": 1})), status: 400, code: Some("PGRST122"), ..Case::default() },
        Case { name: "lenient ignores an unknown preference", method: "PATCH", path: "/items?id=eq.10", headers: &[("Prefer", "bogus=1")], body: Some(json!({"qty": 8})), status: 204, ..Case::default() },
        Case { name: "delete, minimal: 204", method: "DELETE", path: "/items?id=eq.20", status: 204, expect_headers: &[("content-range", "*/*")], ..Case::default() },
        Case { name: "delete, counted", method: "DELETE", path: "/items?id=eq.21", headers: &[("Prefer", "count=exact")], status: 204, expect_headers: &[("content-range", "*/1")], ..Case::default() },
        Case { name: "delete, representation: 200", method: "DELETE", path: "/items?id=eq.19", headers: REP, status: 200, expect: Some(json!([{"id": 19, "name": "nineteen", "qty": 0}])), ..Case::default() },
        Case { name: "put inserting, minimal: 204", method: "PUT", path: "/items?id=eq.30", body: Some(json!({"id": 30, "name": "thirty", "qty": 3})), status: 204, ..Case::default() },
        Case { name: "put replacing, representation: 200", method: "PUT", path: "/items?id=eq.30", headers: REP, body: Some(json!({"id": 30, "name": "THIRTY", "qty": 4})), status: 200, expect: Some(json!([{"id": 30, "name": "THIRTY", "qty": 4}])), ..Case::default() },
        Case { name: "put inserting, representation: 201", method: "PUT", path: "/items?id=eq.31", headers: REP, body: Some(json!({"id": 31, "name": "x", "qty": 1})), status: 201, expect: Some(json!([{"id": 31, "name": "x", "qty": 1}])), ..Case::default() },
        Case { name: "put with a different key: PGRST115", method: "PUT", path: "/items?id=eq.32", body: Some(json!({"id": 33, "name": "x"})), status: 400, code: Some("PGRST115"), ..Case::default() },
        Case { name: "put without the key filter: PGRST105", method: "PUT", path: "/items?name=eq.x", body: Some(json!({"id": 33})), status: 405, code: Some("PGRST105"), ..Case::default() },
        Case { name: "put with limit: PGRST114", method: "PUT", path: "/items?id=eq.30&limit=1", body: Some(json!({"id": 30})), status: 400, code: Some("PGRST114"), ..Case::default() },
        Case { name: "representation with an embed of the new row", method: "POST", path: "/books?select=title,authors(name)", headers: REP, body: Some(json!({"title": "New", "author_id": 2})), status: 201, expect: Some(json!([{"title": "New", "authors": {"name": "Italo"}}])), ..Case::default() },
        Case { name: "update representation with an embed", method: "PATCH", path: "/books?title=eq.New&select=title,authors(name)", headers: REP, body: Some(json!({"author_id": 3})), status: 200, expect: Some(json!([{"title": "New", "authors": {"name": "Jorge"}}])), ..Case::default() },
        Case { name: "insert through an updatable view", method: "POST", path: "/books_view", headers: REP, body: Some(json!({"title": "Via view", "year": 2000})), status: 201, ..Case::default() },
        Case { name: "write to a materialized view: 400", method: "POST", path: "/book_counts", body: Some(json!({"n": 1})), status: 400, code: Some("42809"), ..Case::default() },
        Case { name: "non-JSON body: PGRST102", method: "POST", path: "/items", headers: &[("Content-Type", "text/plain")], status: 400, code: Some("PGRST102"), ..Case::default() },
    ])
    .await;
    // What the cases left behind: the rolled-back max-affected update changed nothing.
    let n: i64 = api
        .scalar("select count(*) from public.items where qty = 99")
        .await;
    assert_eq!(n, 0);
    let name: String = api
        .scalar("select name from public.items where id = 30")
        .await;
    assert_eq!(name, "THIRTY");
    let gone: i64 = api
        .scalar("select count(*) from public.items where id in (19, 20, 21)")
        .await;
    assert_eq!(gone, 0);
}

#[tokio::test]
async fn tx_rollback_only_where_allowed() {
    let api = Api::start_with(&[("PGRST_DB_TX_END", "commit-allow-override")]).await;
    let r = api
        .post("/items", json!({"id": 50}))
        .header("Prefer", "tx=rollback,return=representation")
        .send()
        .await
        .unwrap();
    let (status, headers, body) = parts(r).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        header(&headers, "preference-applied"),
        Some("return=representation, tx=rollback")
    );
    let n: i64 = api
        .scalar("select count(*) from public.items where id = 50")
        .await;
    assert_eq!(n, 0, "rolled back");

    // Without the override the preference is ignored and the insert is committed.
    let api = Api::start().await;
    let r = api
        .post("/items", json!({"id": 50}))
        .header("Prefer", "tx=rollback")
        .send()
        .await
        .unwrap();
    let (status, headers, _) = parts(r).await;
    assert_eq!(
        (status, header(&headers, "preference-applied")),
        (201, None)
    );
    let n: i64 = api
        .scalar("select count(*) from public.items where id = 50")
        .await;
    assert_eq!(n, 1);
}

#[tokio::test]
async fn privileges_decide_401_or_403() {
    let api = Api::start().await;
    let service = api.stack.service_role_key().to_owned();
    let (_, user) = api.user("writer@example.com").await;
    for (who, token, status) in [
        ("anon", None, 401u16),
        ("anon key", Some(api.stack.anon_key().to_owned()), 401),
        ("user", Some(user), 403),
        ("service_role", Some(service), 403),
    ] {
        let mut req = api.get("/secrets");
        if let Some(t) = &token {
            req = req.bearer_auth(t);
        }
        let (s, headers, body) = parts(req.send().await.unwrap()).await;
        assert_eq!(s, status, "{who}: {body}");
        assert_error(&body, "42501");
        assert_eq!(body["message"], "permission denied for table secrets");
        assert_eq!(
            header(&headers, "www-authenticate").is_some(),
            status == 401,
            "{who}"
        );
    }
}

#[tokio::test]
async fn rls_scopes_writes_to_the_owner() {
    let api = Api::start().await;
    let (a, token_a) = api.user("owner-a@example.com").await;
    let (_, token_b) = api.user("owner-b@example.com").await;
    let r = api
        .post("/notes", json!({"body": "mine"}))
        .bearer_auth(&token_a)
        .header("Prefer", "return=representation")
        .send()
        .await
        .unwrap();
    let (status, _, body) = parts(r).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body[0]["owner"],
        a.as_str(),
        "auth.uid() default filled in from the claims"
    );
    // B cannot see, update or delete A's note: no rows match, which is not an error.
    let r = api
        .patch("/notes", json!({"body": "stolen"}))
        .bearer_auth(&token_b)
        .header("Prefer", "return=representation")
        .send()
        .await
        .unwrap();
    assert_eq!(parts(r).await.2, json!([]));
    let r = api
        .delete("/notes")
        .bearer_auth(&token_b)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let body: String = api.scalar("select body from public.notes").await;
    assert_eq!(body, "mine");
    // Writing a row for someone else violates the policy: 403 for a signed-in user.
    let r = api
        .post("/notes", json!({"body": "x", "owner": a}))
        .bearer_auth(&token_b)
        .send()
        .await
        .unwrap();
    let (status, _, body) = parts(r).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body["message"],
        "new row violates row-level security policy for table \"notes\""
    );
}
