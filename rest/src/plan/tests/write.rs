//! The SQL of writes.

use super::*;
use crate::plan::payload::Payload;
use crate::plan::write::{self, WriteAction, WriteRequest};
use crate::plan::{Plan, PlanKind};

fn write(
    action: WriteAction,
    q: &QueryParams,
    body: serde_json::Value,
    returning: Returning,
    resolution: Option<Resolution>,
) -> Result<Plan, ApiError> {
    let c = cache();
    let t = c.table("public", "books").unwrap().clone();
    write::plan(WriteRequest {
        cache: &c,
        schema: "public",
        table: &t,
        query: q,
        action,
        payload: Some(Payload::parse(body.to_string().as_bytes()).unwrap()),
        returning,
        resolution,
        missing: None,
        count: None,
        media: MediaType::Json,
        authenticated: true,
    })
}

#[test]
fn inserts_bind_the_payload_once() {
    let body =
        serde_json::json!([{"title": HOSTILE, "author_id": 1}, {"title": "b", "author_id": 2}]);
    let plan = write(
        WriteAction::Insert,
        &query(),
        body.clone(),
        Returning::Minimal,
        None,
    )
    .unwrap();
    let sql = &plan.sql.text;
    assert!(sql.contains(r#"INSERT INTO "public"."books" ("author_id", "title") SELECT "author_id", "title" FROM json_populate_recordset(NULL::"public"."books", $1::json) pgrst_body RETURNING 1"#), "{sql}");
    assert!(!sql.contains("drop table"));
    assert_eq!(plan.kind, PlanKind::Insert);
    assert!(!plan.read_only);

    let plan = write(
        WriteAction::Insert,
        &query(),
        body,
        Returning::Representation,
        Some(Resolution::MergeDuplicates),
    )
    .unwrap();
    assert!(plan.sql.text.contains(r#"ON CONFLICT ("id") DO UPDATE SET "author_id" = EXCLUDED."author_id", "title" = EXCLUDED."title""#), "{}", plan.sql.text);
    assert!(
        plan.sql
            .text
            .contains(r#"("public"."books".xmax = 0) AS pgrst_inserted"#)
    );
    assert_eq!(plan.kind, PlanKind::Upsert { merge: true });

    let e = write(
        WriteAction::Insert,
        &query(),
        serde_json::json!([{"title": "a"}, {"year": 1}]),
        Returning::Minimal,
        None,
    )
    .unwrap_err();
    assert_eq!(
        (e.code().as_str(), e.to_string().as_str()),
        ("PGRST102", "All object keys must match")
    );
    let e = write(
        WriteAction::Insert,
        &query(),
        serde_json::json!({"nope": 1}),
        Returning::Minimal,
        None,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Could not find the 'nope' column of 'books' in the schema cache"
    );
}

#[test]
fn updates_deletes_and_put() {
    let mut q = query();
    q.filters = vec![filter("id", CompareOp::Eq, "1")];
    let plan = write(
        WriteAction::Update,
        &q,
        serde_json::json!({"title": "t"}),
        Returning::Representation,
        None,
    )
    .unwrap();
    assert!(plan.sql.text.contains(r#"UPDATE "public"."books" SET "title" = pgrst_body."title" FROM (SELECT * FROM json_populate_record(NULL::"public"."books", $2::json)) pgrst_body WHERE "public"."books"."id" = $1::integer"#), "{}", plan.sql.text);
    let plan = write(
        WriteAction::Put,
        &q,
        serde_json::json!({"id": 1, "title": "t"}),
        Returning::Minimal,
        None,
    )
    .unwrap();
    assert_eq!(plan.kind, PlanKind::Put);
    assert!(plan.sql.text.contains(r#"ON CONFLICT ("id") DO UPDATE"#));
    let e = write(
        WriteAction::Put,
        &q,
        serde_json::json!({"id": 2, "title": "t"}),
        Returning::Minimal,
        None,
    )
    .unwrap_err();
    assert_eq!(e.code(), "PGRST115");
    let mut bad = query();
    bad.filters = vec![filter("title", CompareOp::Eq, "x")];
    assert_eq!(
        write(
            WriteAction::Put,
            &bad,
            serde_json::json!({"id": 1}),
            Returning::Minimal,
            None
        )
        .unwrap_err()
        .code(),
        "PGRST105"
    );
}
