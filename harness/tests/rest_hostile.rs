//! The data API on hostile input, one row per case the property tests (`fuzz_rest/`) reached
//! or the issue names: each with PostgREST's answer and, for refusals, its error shape and no
//! row written. Text PostgreSQL refuses (NUL, lone surrogates, numbers past a column's range)
//! is the client's fault: 400 with the SQLSTATE, as PostgREST's table maps it.

mod rest_common;

use rest_common::*;
use serde_json::json;

const REP: &[(&str, &str)] = &[("Prefer", "return=representation")];

const LONG: &str = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";

// One row per case, as the other rest_* tables.
#[rustfmt::skip]
#[tokio::test]
async fn hostile_input() {
    let api = Api::start().await;
    let before: i64 = api.scalar("select sum(qty)::bigint from public.items").await;
    let long_select = format!("/items?select={LONG}");
    let long_select: &'static str = Box::leak(long_select.into_boxed_str());
    api.check(vec![
        // PostgREST selects nothing for a PATCH that sets no column.
        Case { name: "patch setting no column: 204", method: "PATCH", path: "/items?id=eq.1", body: Some(json!({})), status: 204, ..Case::default() },
        Case { name: "patch setting no column, representation: []", method: "PATCH", path: "/items?id=eq.1&name=like.*o*", headers: REP, body: Some(json!({})), status: 200, expect: Some(json!([])), ..Case::default() },
        Case { name: "patch with an empty array", method: "PATCH", path: "/items?id=eq.1", body: Some(json!([])), status: 204, ..Case::default() },
        // Its filters are not planned at all: no parameter is bound for a statement without
        // placeholders, and a filter on no column is not an error there.
        Case { name: "patch setting no column ignores its filters", method: "PATCH", path: "/items?nope=eq.1&id=eq.x", body: Some(json!({})), status: 204, ..Case::default() },
        // NUL: text cannot hold it. In a body PostgreSQL refuses the JSON escape (22P05); in
        // a query value it is refused before PostgreSQL with PostgreSQL's own 22021.
        Case { name: "NUL escape into a text column: 22P05", method: "POST", path: "/items", body: Some(json!({"id": 60, "name": "a\u{0}b"})), status: 400, code: Some("22P05"), ..Case::default() },
        Case { name: "NUL escape into a jsonb column: 22P05", method: "POST", path: "/books", body: Some(json!({"title": "t", "meta": {"k": "\u{0}"}})), status: 400, code: Some("22P05"), ..Case::default() },
        Case { name: "NUL escape in a patch: 22P05", method: "PATCH", path: "/items?id=eq.1", body: Some(json!({"name": "\u{0}"})), status: 400, code: Some("22P05"), ..Case::default() },
        Case { name: "NUL in a filter value: 22021", method: "GET", path: "/items?name=eq.a%00b", status: 400, code: Some("22021"), ..Case::default() },
        // GET arguments reach the function as one JSON object, as in PostgREST: the escape again.
        Case { name: "NUL in an RPC argument: 22P05", method: "GET", path: "/rpc/setting?name=a%00", status: 400, code: Some("22P05"), ..Case::default() },
        // Numbers past a column's range: PostgreSQL's 22003, the client's fault.
        Case { name: "filter past int4: 22003", method: "GET", path: "/items?id=eq.2147483648", status: 400, code: Some("22003"), ..Case::default() },
        Case { name: "filter past int8: 22003", method: "GET", path: "/items?id=gt.99999999999999999999", status: 400, code: Some("22003"), ..Case::default() },
        Case { name: "in-list past int4: 22003", method: "GET", path: "/items?id=in.(1,-2147483649)", status: 400, code: Some("22003"), ..Case::default() },
        Case { name: "insert past int4: 22003", method: "POST", path: "/items", body: Some(json!({"id": 2147483648u64})), status: 400, code: Some("22003"), ..Case::default() },
        Case { name: "RPC argument past int4: 22003", method: "GET", path: "/rpc/add?a=2147483648&b=1", status: 400, code: Some("22003"), ..Case::default() },
        Case { name: "RPC result past int4: 22003", method: "GET", path: "/rpc/add?a=2147483647&b=1", status: 400, code: Some("22003"), ..Case::default() },
        Case { name: "varchar(3) past its length: 22001", method: "POST", path: "/codes", body: Some(json!({"code": "abcd"})), status: 400, code: Some("22001"), ..Case::default() },
        // Identifiers past NAMEDATALEN (63) name no column of the schema cache.
        Case { name: "over-long column in select: 42703", method: "GET", path: long_select, status: 400, code: Some("42703"), ..Case::default() },
        Case { name: "over-long column in a body: PGRST204", method: "POST", path: "/items", body: Some(json!({LONG: 1})), status: 400, code: Some("PGRST204"), ..Case::default() },
        // SQL built into identifiers and values is a name or a value, never SQL. A raw `;`
        // separates parameters (as http-types' parseQuery splits them), so the text after it
        // is a key of its own; `%3B` keeps it inside. The grammar's parsers stop where
        // PostgREST's Parsec ones stop: trailing text after complete `on_conflict` or
        // `columns` lists, filter keys and argument keys is ignored there too (`order` asks
        // for the end); what is left is a name checked against the schema cache and quoted.
        Case { name: "injection after ; in select: its own, valueless key", method: "GET", path: "/items?select=id;drop%20table%20items", status: 200, expect: Some(json!([{"id": 1}, {"id": 2}])), ..Case::default() },
        Case { name: "injection in a quoted select name: no such column", method: "GET", path: "/items?select=%22id%3Bdrop%20table%20items%22", status: 400, code: Some("42703"), ..Case::default() },
        Case { name: "injection in a select name: a parse error", method: "GET", path: "/items?select=id%3Bdrop%20table%20items", status: 400, code: Some("PGRST100"), ..Case::default() },
        Case { name: "injection after an order term: a parse error", method: "GET", path: "/items?order=id.desc%3Bdelete%20from%20items", status: 400, code: Some("PGRST100"), ..Case::default() },
        Case { name: "injection in an order name: no such column", method: "GET", path: "/items?order=%22id%3Bdelete%20from%20items%22", status: 400, code: Some("42703"), ..Case::default() },
        Case { name: "injection in a filter value is a value", method: "GET", path: "/items?name=eq.%27%20or%201=1%20--", status: 200, expect: Some(json!([])), ..Case::default() },
        Case { name: "a doubled quote ends a filter's column name: the rest is ignored", method: "GET", path: "/items?%22id%22%22%3Bdelete%20from%20items%22=eq.1&select=id", status: 200, expect: Some(json!([{"id": 1}])), ..Case::default() },
        Case { name: "injection after on_conflict's columns is ignored", method: "POST", path: "/items?on_conflict=id)%3Bdelete%20from%20items%3B--", headers: &[("Prefer", "resolution=merge-duplicates")], body: Some(json!({"id": 1})), status: 200, ..Case::default() },
        Case { name: "injection in an on_conflict name: no such column", method: "POST", path: "/items?on_conflict=%22id%3Bdelete%20from%20items%22", headers: &[("Prefer", "resolution=merge-duplicates")], body: Some(json!({"id": 1})), status: 400, code: Some("42703"), ..Case::default() },
        Case { name: "injection in a columns name: no such column", method: "POST", path: "/items?columns=id,%22name%3Bselect%201%22", body: Some(json!({"id": 61})), status: 400, code: Some("PGRST204"), ..Case::default() },
        Case { name: "injection after ; in RPC arguments: a key of its own", method: "GET", path: "/rpc/add?a=1&b);select%201;--=2", status: 400, code: Some("PGRST100"), ..Case::default() },
        Case { name: "an RPC argument is named by its key's field name: the rest is ignored", method: "GET", path: "/rpc/add?a=1&b)%3Bselect%201%3B--=2", status: 200, expect: Some(json!(3)), ..Case::default() },
        Case { name: "injection in an fts config", method: "GET", path: "/books?title=fts(english%27)%3Bselect%201%3B--).x", status: 400, ..Case::default() },
    ])
    .await;
    let after: i64 = api.scalar("select sum(qty)::bigint from public.items").await;
    assert_eq!(before, after, "a refused or empty request changed items");
    let rows: i64 = api.scalar("select count(*) from public.items where id >= 60").await;
    assert_eq!(rows, 0, "a refused insert left a row");
    let tables: i64 = api.scalar("select count(*) from pg_tables where tablename = 'items'").await;
    assert_eq!(tables, 1);
    api.stop().await;
}

/// Bodies that are not text PostgreSQL holds: lone surrogate escapes and invalid UTF-8 are
/// the client's 400, never a write.
#[tokio::test]
async fn bodies_postgresql_refuses() {
    let api = Api::start().await;
    for body in [
        &br#"{"id": 70, "name": "\ud800"}"#[..],
        br#"{"id": 71, "name": "\udfff\ud800"}"#,
        br#"[{"id": 72, "name": "ok"}, {"id": 73, "name": "\ud83d"}]"#,
        b"{\"id\": 74, \"name\": \"\xff\xfe\"}",
        b"\xef\xbb\xbf{\"id\": 75}",
    ] {
        let r = api
            .request(reqwest::Method::POST, "/items")
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let bytes = r.bytes().await.unwrap();
        let shown = String::from_utf8_lossy(body);
        assert_eq!(status, 400, "{shown}: {bytes:?}");
        let violation = postgrest_shape_violation(&headers, &bytes);
        assert!(violation.is_none(), "{shown}: {violation:?}");
    }
    let rows: i64 = api
        .scalar("select count(*) from public.items where id >= 70")
        .await;
    assert_eq!(rows, 0);
    api.stop().await;
}
