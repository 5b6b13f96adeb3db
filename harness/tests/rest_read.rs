//! Reads against real PostgreSQL: select, filters, logic, order, pages, counts, embedding,
//! media types, and the statuses and `Content-Range` of contract §3.1/§3.2.

mod rest_common;

use rest_common::*;
use serde_json::json;

#[tokio::test]
async fn reads() {
    let api = Api::start().await;
    api.check(vec![
        Case { name: "select and order", path: "/authors?select=name&order=id", expect: Some(json!([{"name": "Ursula"}, {"name": "Italo"}, {"name": "Jorge"}])), expect_headers: &[("content-range", "0-2/*"), ("content-type", "application/json; charset=utf-8")], ..Case::default() },
        Case { name: "Content-Location has the keys sorted", path: "/authors?select=name&order=id", expect_headers: &[("content-location", "/authors?order=id&select=name")], ..Case::default() },
        Case { name: "count exact, partial: 206", path: "/books?select=id&order=id&limit=2", headers: &[("Prefer", "count=exact")], status: 206, expect: Some(json!([{"id": 1}, {"id": 2}])), expect_headers: &[("content-range", "0-1/5"), ("preference-applied", "count=exact")], ..Case::default() },
        Case { name: "count exact, whole: 200", path: "/authors?select=id", headers: &[("Prefer", "count=exact")], expect_headers: &[("content-range", "0-2/3")], ..Case::default() },
        Case { name: "offset and count", path: "/books?select=id&order=id&offset=3", headers: &[("Prefer", "count=exact")], status: 206, expect: Some(json!([{"id": 4}, {"id": 5}])), expect_headers: &[("content-range", "3-4/5")], ..Case::default() },
        Case { name: "offset past the total: 416", path: "/books?offset=10", headers: &[("Prefer", "count=exact")], status: 416, code: Some("PGRST103"), expect: Some(json!({"code": "PGRST103", "message": "Requested range not satisfiable", "details": "An offset of 10 was requested, but there are only 5 rows.", "hint": null})), ..Case::default() },
        Case { name: "Range header", path: "/books?select=id&order=id", headers: &[("Range", "1-2")], expect: Some(json!([{"id": 2}, {"id": 3}])), expect_headers: &[("content-range", "1-2/*")], ..Case::default() },
        Case { name: "Range intersected with limit", path: "/books?select=id&order=id&limit=2", headers: &[("Range", "1-3")], expect: Some(json!([{"id": 2}])), ..Case::default() },
        Case { name: "Range first after last: 416", path: "/books", headers: &[("Range", "3-1")], status: 416, code: Some("PGRST103"), ..Case::default() },
        Case { name: "no rows", path: "/books?id=eq.999", expect: Some(json!([])), expect_headers: &[("content-range", "*/*")], ..Case::default() },
        Case { name: "no rows, counted", path: "/books?id=eq.999", headers: &[("Prefer", "count=exact")], expect: Some(json!([])), expect_headers: &[("content-range", "*/0")], ..Case::default() },
        Case { name: "HEAD", method: "HEAD", path: "/authors", headers: &[("Prefer", "count=exact")], expect: Some(serde_json::Value::Null), expect_headers: &[("content-range", "0-2/3")], ..Case::default() },
        Case { name: "eq/neq/gt", path: "/books?select=id&year=gt.1950&id=neq.2&order=id", expect: Some(json!([{"id": 1}, {"id": 3}])), ..Case::default() },
        Case { name: "in and not.in", path: "/books?select=id&id=not.in.(1,2,3)&order=id", expect: Some(json!([{"id": 4}, {"id": 5}])), ..Case::default() },
        Case { name: "is.null", path: "/books?select=id&price=is.null", expect: Some(json!([{"id": 4}])), ..Case::default() },
        Case { name: "is.not_null", path: "/books?select=id&tags=not.is.null&order=id&limit=1", expect: Some(json!([{"id": 1}])), ..Case::default() },
        Case { name: "like with *", path: "/books?select=title&title=like.*sea", expect: Some(json!([{"title": "Earthsea"}])), ..Case::default() },
        Case { name: "ilike", path: "/books?select=title&title=ilike.EARTH*", expect: Some(json!([{"title": "Earthsea"}])), ..Case::default() },
        Case { name: "match", path: "/books?select=id&title=match.^F", expect: Some(json!([{"id": 4}])), ..Case::default() },
        Case { name: "cs on an array", path: "/books?select=id&tags=cs.{scifi}", expect: Some(json!([{"id": 2}])), ..Case::default() },
        Case { name: "ov on an array", path: "/books?select=id&tags=ov.{sea,fable}&order=id", expect: Some(json!([{"id": 1}, {"id": 3}])), ..Case::default() },
        Case { name: "cs on jsonb", path: "/books?select=id&meta=cs.{\"pages\":205}", expect: Some(json!([{"id": 1}])), ..Case::default() },
        Case { name: "json path filter", path: "/books?select=id&meta->>pages=eq.387", expect: Some(json!([{"id": 2}])), ..Case::default() },
        Case { name: "eq(any)", path: "/books?select=id&id=eq(any).{1,5}&order=id", expect: Some(json!([{"id": 1}, {"id": 5}])), ..Case::default() },
        Case { name: "fts", path: "/books?select=id&title=fts.cities", expect: Some(json!([{"id": 3}])), ..Case::default() },
        Case { name: "or", path: "/books?select=id&or=(id.eq.1,year.lt.1945)&order=id", expect: Some(json!([{"id": 1}, {"id": 4}])), ..Case::default() },
        Case { name: "nested and/or with not", path: "/books?select=id&or=(and(author_id.eq.1,year.not.eq.1968),id.eq.5)&order=id", expect: Some(json!([{"id": 2}, {"id": 5}])), ..Case::default() },
        Case { name: "not.or", path: "/books?select=id&not.or=(id.lt.3,id.gt.3)", expect: Some(json!([{"id": 3}])), ..Case::default() },
        Case { name: "order desc nullslast", path: "/books?select=id&order=price.desc.nullslast", expect: Some(json!([{"id": 2}, {"id": 1}, {"id": 3}, {"id": 5}, {"id": 4}])), ..Case::default() },
        Case { name: "order nullsfirst", path: "/books?select=id&order=price.asc.nullsfirst&limit=2", expect: Some(json!([{"id": 4}, {"id": 5}])), ..Case::default() },
        Case { name: "rename and cast", path: "/books?select=t:title,year::text&id=eq.1", expect: Some(json!([{"t": "Earthsea", "year": "1968"}])), ..Case::default() },
        Case { name: "json path select", path: "/books?select=meta->series->>name,pages:meta->pages&id=eq.1", expect: Some(json!([{"name": "Earthsea", "pages": 205}])), ..Case::default() },
        Case { name: "many-to-one embed", path: "/books?select=title,authors(name)&id=eq.1", expect: Some(json!([{"title": "Earthsea", "authors": {"name": "Ursula"}}])), ..Case::default() },
        Case { name: "many-to-one embed by column", path: "/books?select=title,writer:author_id(name)&id=eq.3", expect: Some(json!([{"title": "Invisible Cities", "writer": {"name": "Italo"}}])), ..Case::default() },
        Case { name: "one-to-many embed", path: "/authors?select=name,books(title)&id=eq.2", expect: Some(json!([{"name": "Italo", "books": [{"title": "Invisible Cities"}]}])), ..Case::default() },
        Case { name: "one-to-one is an object", path: "/authors?select=name,author_bios(bio)&id=in.(1,2)&order=id", expect: Some(json!([{"name": "Ursula", "author_bios": {"bio": "Wrote Earthsea"}}, {"name": "Italo", "author_bios": null}])), ..Case::default() },
        Case { name: "one-to-one spread", path: "/authors?select=name,...author_bios(bio)&id=eq.1", expect: Some(json!([{"name": "Ursula", "bio": "Wrote Earthsea"}])), ..Case::default() },
        Case { name: "order by a to-many embed: PGRST118", path: "/authors?select=id,books(title)&order=books(title)", status: 400, code: Some("PGRST118"), ..Case::default() },
        Case { name: "many-to-many through a junction", path: "/books?select=title,genres(name)&genres.order=name&id=eq.2", expect: Some(json!([{"title": "Dispossessed", "genres": [{"name": "fantasy"}, {"name": "science fiction"}]}])), ..Case::default() },
        Case { name: "many-to-many, other direction, inner", path: "/genres?select=name,books!inner(id)&books.year=lt.1950&order=id", expect: Some(json!([{"name": "short stories", "books": [{"id": 4}, {"id": 5}]}])), ..Case::default() },
        Case { name: "filter on an embed: not.is.null", path: "/books?select=id,reviews(id)&reviews=not.is.null&order=id", expect: Some(json!([{"id": 1, "reviews": [{"id": 1}, {"id": 2}]}, {"id": 3, "reviews": [{"id": 3}]}])), ..Case::default() },
        Case { name: "filter on an embed: is.null", path: "/authors?select=id,author_bios()&author_bios=is.null&order=id", expect: Some(json!([{"id": 2}, {"id": 3}])), ..Case::default() },
        Case { name: "other operators on an embed: PGRST120", path: "/books?select=id,reviews(id)&reviews=eq.1", status: 400, expect: Some(json!({"code": "PGRST120", "message": "Bad operator on the 'reviews' embedded resource", "details": "Only is null or not is null filters are allowed on embedded resources", "hint": null})), ..Case::default() },
        Case { name: "view embeds a view (many-to-one through private tables)", path: "/volumes_v?select=title,shelves_v(label)&id=eq.12", expect: Some(json!([{"title": "c", "shelves_v": {"label": "bottom"}}])), ..Case::default() },
        Case { name: "view embeds a view (one-to-many)", path: "/shelves_v?select=label,volumes_v(id)&volumes_v.order=id&id=eq.1", expect: Some(json!([{"label": "top", "volumes_v": [{"id": 10}, {"id": 11}]}])), ..Case::default() },
        Case { name: "table embeds a view over it", path: "/books_view?select=id,reviews(stars)&id=eq.3", expect: Some(json!([{"id": 3, "reviews": [{"stars": 5}]}])), ..Case::default() },
        Case { name: "a view without the key column does not embed", path: "/books_view?select=id,authors(name)", status: 400, code: Some("PGRST200"), ..Case::default() },
        Case { name: "one-to-many empty is []", path: "/books?select=id,reviews(id)&id=eq.2", expect: Some(json!([{"id": 2, "reviews": []}])), ..Case::default() },
        Case { name: "inner embed with embedded filter", path: "/authors?select=name,books!inner(title)&books.year=gt.1970&order=id", expect: Some(json!([{"name": "Ursula", "books": [{"title": "Dispossessed"}]}, {"name": "Italo", "books": [{"title": "Invisible Cities"}]}])), ..Case::default() },
        Case { name: "embedded order and limit", path: "/authors?select=name,books(title)&books.order=year.desc&books.limit=1&id=eq.1", expect: Some(json!([{"name": "Ursula", "books": [{"title": "Dispossessed"}]}])), ..Case::default() },
        Case { name: "spread", path: "/books?select=title,...authors(name)&id=eq.1", expect: Some(json!([{"title": "Earthsea", "name": "Ursula"}])), ..Case::default() },
        Case { name: "nested embeds", path: "/reviews?select=id,books(title,authors(name))&id=eq.3", expect: Some(json!([{"id": 3, "books": {"title": "Invisible Cities", "authors": {"name": "Italo"}}}])), ..Case::default() },
        Case { name: "hint picks the foreign key", path: "/reviews?select=id,reviewer:authors!reviewer_id(name),editor:authors!reviews_editor_id_fkey(name)&id=eq.1", expect: Some(json!([{"id": 1, "reviewer": {"name": "Italo"}, "editor": {"name": "Jorge"}}])), ..Case::default() },
        Case { name: "ambiguous embed: 300 PGRST201", path: "/reviews?select=authors(name)", status: 300, code: Some("PGRST201"), ..Case::default() },
        Case { name: "no relationship: PGRST200", path: "/books?select=items(*)", status: 400, code: Some("PGRST200"), ..Case::default() },
        Case { name: "embedded filter without the embed: PGRST108", path: "/books?authors.name=eq.x", status: 400, code: Some("PGRST108"), ..Case::default() },
        Case { name: "order by a to-one embed", path: "/books?select=id,authors(name)&order=authors(name).desc,id&limit=2", expect: Some(json!([{"id": 1, "authors": {"name": "Ursula"}}, {"id": 2, "authors": {"name": "Ursula"}}])), ..Case::default() },
        Case { name: "view", path: "/books_view?id=eq.1", expect: Some(json!([{"id": 1, "title": "Earthsea", "year": 1968}])), ..Case::default() },
        Case { name: "materialized view", path: "/book_counts?select=n&author_id=eq.3", expect: Some(json!([{"n": 2}])), ..Case::default() },
        Case { name: "singular", path: "/authors?select=name&id=eq.1", headers: &[("Accept", "application/vnd.pgrst.object+json")], expect: Some(json!({"name": "Ursula"})), expect_headers: &[("content-type", "application/vnd.pgrst.object+json; charset=utf-8")], ..Case::default() },
        Case { name: "singular on many rows: 406", path: "/authors", headers: &[("Accept", "application/vnd.pgrst.object+json")], status: 406, expect: Some(json!({"code": "PGRST116", "message": "Cannot coerce the result to a single JSON object", "details": "The result contains 3 rows", "hint": null})), ..Case::default() },
        Case { name: "nulls stripped", path: "/books?select=id,price&id=eq.4", headers: &[("Accept", "application/vnd.pgrst.array+json;nulls=stripped")], expect: Some(json!([{"id": 4}])), ..Case::default() },
        Case { name: "csv", path: "/authors?select=id,name&order=id", headers: &[("Accept", "text/csv")], expect: Some(json!("id,name\n1,Ursula\n2,Italo\n3,Jorge")), expect_headers: &[("content-type", "text/csv; charset=utf-8")], ..Case::default() },
        Case { name: "unproducible media type: 406", path: "/authors", headers: &[("Accept", "text/html")], status: 406, code: Some("PGRST107"), ..Case::default() },
        Case { name: "unknown column: PostgreSQL's 42703", path: "/authors?select=nope", status: 400, expect: Some(json!({"code": "42703", "message": "column authors.nope does not exist", "details": null, "hint": "Perhaps you meant to reference the column \"authors.name\"."})), ..Case::default() },
        Case { name: "unknown filter column", path: "/authors?nope=eq.1", status: 400, code: Some("42703"), ..Case::default() },
        Case { name: "bad uuid literal: 22P02", path: "/books?isbn=eq.x", status: 400, expect: Some(json!({"code": "22P02", "message": "invalid input syntax for type uuid: \"x\"", "details": null, "hint": null})), ..Case::default() },
        Case { name: "bad integer literal", path: "/books?id=eq.abc", status: 400, expect: Some(json!({"code": "22P02", "message": "invalid input syntax for type integer: \"abc\"", "details": null, "hint": null})), ..Case::default() },
        Case { name: "varchar(3) filter: a longer value matches nothing", path: "/codes?code=eq.abcdef", expect: Some(json!([])), ..Case::default() },
        Case { name: "varchar(3) filter: the value itself matches", path: "/codes?code=in.(abc,abcd)", expect: Some(json!([{"code": "abc"}])), ..Case::default() },
        Case { name: "NUL byte refused as PostgreSQL would", path: "/authors?name=eq.a%00b", status: 400, code: Some("22021"), ..Case::default() },
        Case { name: "NUL byte in a name: the grammar refuses it", path: "/authors?select=a%00b:name", status: 400, code: Some("PGRST100"), ..Case::default() },
        Case { name: "NUL byte in a quoted alias: the grammar refuses it", path: "/authors?select=%22a%00b%22:name", status: 400, code: Some("PGRST100"), ..Case::default() },
        Case { name: "unknown table: PGRST205 with hint", path: "/book", status: 404, expect: Some(json!({"code": "PGRST205", "message": "Could not find the table 'public.book' in the schema cache", "details": null, "hint": "Perhaps you meant the table 'public.books'"})), ..Case::default() },
        Case { name: "parse error: PGRST100", path: "/books?id=eqq.1", status: 400, code: Some("PGRST100"), ..Case::default() },
        Case { name: "aggregates are disabled: PGRST123", path: "/books?select=count()", status: 400, code: Some("PGRST123"), ..Case::default() },
        Case { name: "root is an OpenAPI document", path: "/", expect_headers: &[("content-type", "application/openapi+json; charset=utf-8")], ..Case::default() },
        Case { name: "Server header", path: "/authors?limit=1", expect_headers: &[("server", "postgrest/14.5")], ..Case::default() },
    ])
    .await;
}

#[tokio::test]
async fn planned_and_estimated_counts_give_a_number() {
    let api = Api::start_with(&[("PGRST_DB_MAX_ROWS", "2")]).await;
    for pref in ["count=planned", "count=estimated"] {
        let r = api
            .get("/books?select=id")
            .header("Prefer", pref)
            .send()
            .await
            .unwrap();
        let (status, headers, body) = parts(r).await;
        let range = header(&headers, "content-range")
            .unwrap_or_else(|| panic!("{pref}: {status} {body}"))
            .to_owned();
        let total: i64 = range
            .split('/')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap_or_else(|_| panic!("{pref}: {range}"));
        assert!(total > 0, "{pref}: {range}");
        assert_eq!(
            body.as_array().unwrap().len(),
            2,
            "db-max-rows caps the page: {body}"
        );
        assert!(status == 200 || status == 206, "{status}");
    }
    // Exact with max-rows: the page is capped, the total is not.
    let r = api
        .get("/books?select=id")
        .header("Prefer", "count=exact")
        .send()
        .await
        .unwrap();
    let (status, headers, _) = parts(r).await;
    assert_eq!(
        (status, header(&headers, "content-range")),
        (206, Some("0-1/5"))
    );
}

#[tokio::test]
async fn several_schemas_send_content_profile() {
    let api = Api::start_with_sql(
        "create schema api; create table api.things (id int primary key); \
         grant usage on schema api to anon; grant select on api.things to anon; \
         insert into api.things values (7);",
        &[("PGRST_DB_SCHEMAS", "public,api")],
    )
    .await;
    api.check(vec![
        Case { name: "default schema has Content-Profile", path: "/authors?select=id&limit=1", expect_headers: &[("content-profile", "public")], ..Case::default() },
        Case { name: "Accept-Profile picks the schema", path: "/things", headers: &[("Accept-Profile", "api")], expect: Some(json!([{"id": 7}])), expect_headers: &[("content-profile", "api")], ..Case::default() },
        Case { name: "unknown profile: 406 PGRST106", path: "/things", headers: &[("Accept-Profile", "nope")], status: 406, expect: Some(json!({"code": "PGRST106", "message": "Invalid schema: nope", "details": null, "hint": "Only the following schemas are exposed: public, api"})), ..Case::default() },
    ])
    .await;
}

/// The 42703 the cache answers for an unknown column says what PostgreSQL itself says for
/// the same reference: message and hint, compared with the real thing.
#[tokio::test]
async fn unknown_columns_answer_postgresqls_own_text() {
    use sqlx::Connection;
    let api = Api::start().await;
    let mut conn = sqlx::PgConnection::connect(api.stack.db_url())
        .await
        .unwrap();
    for (table, column) in [
        ("authors", "nam"),
        ("authors", "zzzzzz"),
        ("books", "titel"),
        ("books", "yaer"),
        ("items", "q"),
    ] {
        let sql = format!(r#"SELECT "public"."{table}"."{column}" FROM "public"."{table}""#);
        let err = sqlx::query(&sql).execute(&mut conn).await.unwrap_err();
        let pg = err
            .as_database_error()
            .unwrap()
            .downcast_ref::<sqlx::postgres::PgDatabaseError>();
        let (status, _, body) = parts(
            api.get(&format!("/{table}?select={column}"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(
            body,
            json!({"code": pg.code(), "message": pg.message(), "details": pg.detail(), "hint": pg.hint()}),
            "{table}.{column}"
        );
    }
}

/// The refusals the server makes for PostgreSQL say what PostgreSQL says: a NUL byte in a
/// text value, a cast to a type that does not exist.
#[tokio::test]
async fn refusals_made_for_postgresql_match_it() {
    use sqlx::Connection;
    let api = Api::start().await;
    let mut conn = sqlx::PgConnection::connect(api.stack.db_url())
        .await
        .unwrap();
    let real = |e: sqlx::Error| {
        let pg = e
            .as_database_error()
            .unwrap()
            .downcast_ref::<sqlx::postgres::PgDatabaseError>();
        json!({"code": pg.code(), "message": pg.message(), "details": pg.detail(), "hint": pg.hint()})
    };
    let nul = sqlx::query("SELECT $1::text")
        .bind("a\0b")
        .execute(&mut conn)
        .await
        .unwrap_err();
    let (status, _, body) = parts(api.get("/authors?name=eq.a%00b").send().await.unwrap()).await;
    assert_eq!((status, &body), (400, &real(nul)));
    let cast = sqlx::query(r#"SELECT CAST(name AS "nosuchtype") FROM public.authors"#)
        .execute(&mut conn)
        .await
        .unwrap_err();
    let (status, _, body) = parts(
        api.get("/authors?select=name::nosuchtype")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body), (400, real(cast)));
}
