//! `/rpc/<fn>` against real functions of each volatility and return kind.

mod rest_common;

use rest_common::*;
use serde_json::json;

#[tokio::test]
async fn calls() {
    let api = Api::start().await;
    api.check(vec![
        Case { name: "scalar by POST", method: "POST", path: "/rpc/add", body: Some(json!({"a": 1, "b": 2})), expect: Some(json!(3)), ..Case::default() },
        Case { name: "scalar by GET", path: "/rpc/add?a=40&b=2", expect: Some(json!(42)), ..Case::default() },
        Case { name: "no arguments", path: "/rpc/hello", expect: Some(json!("hello")), ..Case::default() },
        Case { name: "no arguments by POST, empty body", method: "POST", path: "/rpc/hello", expect: Some(json!("hello")), ..Case::default() },
        Case { name: "setof rows", path: "/rpc/books_by?author=3&select=title", expect: Some(json!([{"title": "Ficciones"}, {"title": "Aleph"}])), ..Case::default() },
        Case { name: "filters, order and limit on a set", path: "/rpc/books_by?author=1&select=id&order=id.desc&limit=1", expect: Some(json!([{"id": 2}])), expect_headers: &[("content-range", "0-0/*")], ..Case::default() },
        Case { name: "filter on a set", method: "POST", path: "/rpc/books_by?year=gt.1970&select=title", body: Some(json!({"author": 1})), expect: Some(json!([{"title": "Dispossessed"}])), ..Case::default() },
        Case { name: "count on a set", path: "/rpc/books_by?author=1&limit=1&select=id", headers: &[("Prefer", "count=exact")], status: 206, expect_headers: &[("content-range", "0-0/2")], ..Case::default() },
        Case { name: "embedding on a table-returning function", path: "/rpc/books_by?author=2&select=title,authors(name)", expect: Some(json!([{"title": "Invisible Cities", "authors": {"name": "Italo"}}])), ..Case::default() },
        Case { name: "returns table", path: "/rpc/author_stats", expect: Some(json!([{"author_id": 1, "books": 2}, {"author_id": 2, "books": 1}, {"author_id": 3, "books": 2}])), ..Case::default() },
        Case { name: "single composite is an object", path: "/rpc/first_book?select=id,title", expect: Some(json!({"id": 1, "title": "Earthsea"})), ..Case::default() },
        Case { name: "void: 204", method: "POST", path: "/rpc/noop", status: 204, expect: Some(serde_json::Value::Null), ..Case::default() },
        Case { name: "defaults honoured", method: "POST", path: "/rpc/bump", body: Some(json!({"item": 1})), expect: Some(json!(2)), ..Case::default() },
        Case { name: "given default", method: "POST", path: "/rpc/bump", body: Some(json!({"item": 1, "by": 10})), expect: Some(json!(12)), ..Case::default() },
        Case { name: "volatile by GET: read-only transaction, 405", path: "/rpc/bump?item=1", status: 405, expect: Some(json!({"code": "25006", "message": "cannot execute UPDATE in a read-only transaction", "details": null, "hint": null})), ..Case::default() },
        Case { name: "overloads by argument names (one)", method: "POST", path: "/rpc/ov", body: Some(json!({"a": 1})), expect: Some(json!("one")), ..Case::default() },
        Case { name: "overloads by argument names (two)", method: "POST", path: "/rpc/ov", body: Some(json!({"a": 1, "b": 2})), expect: Some(json!("two")), ..Case::default() },
        Case { name: "single unnamed json parameter", method: "POST", path: "/rpc/json_echo", body: Some(json!({"any": ["thing"]})), expect: Some(json!({"any": ["thing"]})), ..Case::default() },
        Case { name: "variadic by POST", method: "POST", path: "/rpc/vsum", body: Some(json!({"nums": [1, 2, 3]})), expect: Some(json!(6)), ..Case::default() },
        Case { name: "variadic by GET, repeated key", path: "/rpc/vsum?nums=1&nums=2&nums=4", expect: Some(json!(7)), ..Case::default() },
        Case { name: "array argument by GET", path: "/rpc/vsum?nums={5,6}", expect: Some(json!(11)), ..Case::default() },
        Case { name: "unknown function: PGRST202", method: "POST", path: "/rpc/helo", body: Some(json!({})), status: 404, expect: Some(json!({"code": "PGRST202", "message": "Could not find the function public.helo without parameters in the schema cache", "details": "Searched for the function public.helo without parameters or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.", "hint": "Perhaps you meant to call the function public.hello"})), ..Case::default() },
        Case { name: "wrong argument names: PGRST202", path: "/rpc/add?x=1&y=2", status: 404, expect: Some(json!({"code": "PGRST202", "message": "Could not find the function public.add(x, y) in the schema cache", "details": "Searched for the function public.add with parameters x, y, but no matches were found in the schema cache.", "hint": "Perhaps you meant to call the function public.add(a, b)"})), ..Case::default() },
        Case { name: "PUT on rpc: PGRST101", method: "PUT", path: "/rpc/add", body: Some(json!({})), status: 405, expect: Some(json!({"code": "PGRST101", "message": "Cannot use the PUT method on RPC", "details": null, "hint": null})), ..Case::default() },
        Case { name: "bad argument value: 22P02", path: "/rpc/add?a=x&b=1", status: 400, code: Some("22P02"), ..Case::default() },
        Case { name: "division by zero: 22012 is 400", path: "/rpc/divide?a=1&b=0", status: 400, code: Some("22012"), ..Case::default() },
        Case { name: "Prefer timezone sets the transaction's timezone", path: "/rpc/setting?name=timezone", headers: &[("Prefer", "timezone=Asia/Tokyo")], expect: Some(json!("Asia/Tokyo")), expect_headers: &[("preference-applied", "timezone=Asia/Tokyo")], ..Case::default() },
        Case { name: "unknown timezone with handling=strict: PGRST122", path: "/rpc/setting?name=timezone", headers: &[("Prefer", "handling=strict, timezone=Mars/Olympus")], status: 400, code: Some("PGRST122"), ..Case::default() },
        Case { name: "max-affected on a non-set function: PGRST128", method: "POST", path: "/rpc/add", headers: &[("Prefer", "handling=strict,max-affected=1")], body: Some(json!({"a": 1, "b": 1})), status: 400, code: Some("PGRST128"), ..Case::default() },
    ])
    .await;
}

#[tokio::test]
async fn sql_errors_map_to_postgrest_statuses() {
    let api = Api::start().await;
    api.check(vec![
        Case { name: "RAISE SQLSTATE 'PGRST' takes control", method: "POST", path: "/rpc/raise_pgrst", status: 402, expect: Some(json!({"code": "123", "message": "Payment Required", "details": "Quota exceeded", "hint": "Upgrade"})), expect_headers: &[("x-powered-by", "Nerd Rage")], ..Case::default() },
        Case { name: "PTxyz picks the status", method: "POST", path: "/rpc/raise_pt", status: 418, code: Some("PT418"), ..Case::default() },
        Case { name: "plain RAISE: P0001 is 400", method: "POST", path: "/rpc/raise_plain", status: 400, expect: Some(json!({"code": "P0001", "message": "plain error", "details": "some detail", "hint": "some hint"})), ..Case::default() },
        Case { name: "serialization failure: 40001 is 500", method: "POST", path: "/rpc/deadlock_like", status: 500, code: Some("40001"), ..Case::default() },
        Case { name: "response.status and response.headers", path: "/rpc/with_headers", status: 202, expect: Some(json!(1)), expect_headers: &[("x-fn", "yes")], ..Case::default() },
        Case { name: "invalid response.status: PGRST112", path: "/rpc/bad_status", status: 500, code: Some("PGRST112"), ..Case::default() },
        Case { name: "invalid response.headers: PGRST111", path: "/rpc/bad_headers", status: 500, code: Some("PGRST111"), ..Case::default() },
    ])
    .await;
}

#[tokio::test]
async fn request_settings_reach_sql() {
    let api = Api::start().await;
    let (id, token) = api.user("claims@example.com").await;
    let r = api
        .post("/rpc/claims", json!({}))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (_, _, claims) = parts(r).await;
    assert_eq!(claims["sub"], id.as_str());
    assert_eq!(claims["role"], "authenticated");
    let r = api.get("/rpc/claims").send().await.unwrap();
    assert_eq!(parts(r).await.2, json!({"role": "anon"}));
    let r = api
        .get("/rpc/whoami")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(parts(r).await.2, json!("authenticated"));
    for (name, expected) in [
        ("request.method", json!("GET")),
        ("request.path", json!("/rpc/setting")),
        ("search_path", json!("\"public\", \"public\"")),
    ] {
        let r = api
            .get(&format!("/rpc/setting?name={name}"))
            .send()
            .await
            .unwrap();
        assert_eq!(parts(r).await.2, expected, "{name}");
    }
    let r = api
        .get("/rpc/setting?name=request.headers")
        .header("X-Thing", "1")
        .header("Cookie", "sid=abc; theme=dark")
        .send()
        .await
        .unwrap();
    let headers: serde_json::Value =
        serde_json::from_str(parts(r).await.2.as_str().unwrap()).unwrap();
    assert_eq!(headers["x-thing"], "1");
    assert!(headers.get("cookie").is_none(), "{headers}");
    let r = api
        .get("/rpc/setting?name=request.cookies")
        .header("Cookie", "sid=abc; theme=dark")
        .send()
        .await
        .unwrap();
    let cookies: serde_json::Value =
        serde_json::from_str(parts(r).await.2.as_str().unwrap()).unwrap();
    assert_eq!(cookies, json!({"sid": "abc", "theme": "dark"}));
}

#[tokio::test]
async fn role_settings_apply_per_request() {
    // PostgREST applies the role's statement_timeout in the transaction (a role switch alone
    // would not).
    let api = Api::start_with_sql("alter role anon set statement_timeout = '300ms'", &[]).await;
    let r = api
        .post("/rpc/sleep_for", json!({"seconds": 1}))
        .send()
        .await
        .unwrap();
    let (status, _, body) = parts(r).await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["code"], "57014");
    assert_eq!(
        body["message"],
        "canceling statement due to statement timeout"
    );
    let r = api
        .post("/rpc/sleep_for", json!({"seconds": 0.5}))
        .bearer_auth(api.stack.service_role_key())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
