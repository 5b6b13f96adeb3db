//! The SQL of reads.

use super::*;
use crate::plan::page;
use crate::plan::sql::Param;

#[test]
fn filters_bind_values_and_cast_to_the_column_type() {
    let mut q = query();
    q.filters = vec![
        filter("isbn", CompareOp::Eq, HOSTILE),
        filter("title", CompareOp::Like, "%a%"),
        Filter {
            path: vec![],
            field: Field::column("id"),
            condition: Condition {
                negated: true,
                operation: Operation::In(vec!["1".into(), "2".into()]),
            },
        },
        Filter {
            path: vec![],
            field: Field::column("title"),
            condition: Condition {
                negated: false,
                operation: Operation::Is(IsValue::NotNull),
            },
        },
    ];
    let plan = read(&q, "books").unwrap();
    let sql = &plan.sql.text;
    assert!(
        sql.contains(r#""public"."books"."isbn" = $1::uuid"#),
        "{sql}"
    );
    assert!(
        sql.contains(r#""public"."books"."title" LIKE $2::text"#),
        "{sql}"
    );
    assert!(
        sql.contains(r#"NOT ("public"."books"."id" = ANY($3::integer[]))"#),
        "{sql}"
    );
    assert!(
        sql.contains(r#""public"."books"."title" IS NOT NULL"#),
        "{sql}"
    );
    assert!(!sql.contains("drop table"), "{sql}");
    assert_eq!(plan.sql.params[0], Param::Text(HOSTILE.into()));
    assert_eq!(
        plan.sql.params[2],
        Param::TextArray(vec!["1".into(), "2".into()])
    );
    assert!(plan.read_only);
}

#[test]
fn json_paths_bind_their_keys() {
    let mut q = query();
    q.select = vec![SelectItem::Column {
        field: Field {
            name: "meta".into(),
            json_path: vec![
                JsonOp::Arrow(JsonKey::Key("series".into())),
                JsonOp::DoubleArrow(JsonKey::Key(HOSTILE.into())),
            ],
        },
        alias: None,
        cast: None,
    }];
    q.filters = vec![Filter {
        path: vec![],
        field: Field {
            name: "meta".into(),
            json_path: vec![JsonOp::DoubleArrow(JsonKey::Index(0))],
        },
        condition: Condition {
            negated: false,
            operation: Operation::Compare {
                op: CompareOp::Eq,
                value: "1".into(),
            },
        },
    }];
    let plan = read(&q, "books").unwrap();
    let sql = &plan.sql.text;
    assert!(
        sql.contains(
            r#""public"."books"."meta"->$1::text->>$2::text AS "x'); drop table books; --""#
        ),
        "{sql}"
    );
    assert!(
        sql.contains(r#""public"."books"."meta"->>$3::int = $4::text"#),
        "{sql}"
    );
    assert_eq!(plan.sql.params[1], Param::Text(HOSTILE.into()));
    assert_eq!(plan.sql.params[2], Param::Int(0));
}

#[test]
fn unknown_names_are_refused_before_sql() {
    let mut q = query();
    q.filters = vec![filter("nope", CompareOp::Eq, "1")];
    let e = read(&q, "books").unwrap_err();
    assert_eq!(
        (e.code().as_str(), e.to_string().as_str()),
        ("42703", "column books.nope does not exist")
    );
    let mut q = query();
    q.select = vec![SelectItem::Column {
        field: Field::column("title"),
        alias: None,
        cast: Some("evil\"type".into()),
    }];
    assert_eq!(read(&q, "books").unwrap_err().code(), "42704");
    q.select = vec![SelectItem::Column {
        field: Field::column("title"),
        alias: Some("t".into()),
        cast: Some("int4".into()),
    }];
    assert!(
        read(&q, "books")
            .unwrap()
            .sql
            .text
            .contains(r#"CAST("public"."books"."title" AS "int4") AS "t""#)
    );
    let mut q = query();
    q.select = vec![SelectItem::Embed(Embed {
        relation: "autors".into(),
        alias: None,
        hint: None,
        join: None,
        spread: false,
        select: vec![SelectItem::Star],
    })];
    let e = read(&q, "books").unwrap_err();
    assert_eq!(e.code(), "PGRST200");
    let mut q = query();
    q.filters = vec![Filter {
        path: vec!["authors".into()],
        ..filter("name", CompareOp::Eq, "x")
    }];
    assert_eq!(read(&q, "books").unwrap_err().code(), "PGRST108");
    let e = ApiError::Singular { rows: 2 };
    assert_eq!(e.status(), 406);
}

#[test]
fn embeds_are_lateral_joins_over_the_foreign_key() {
    let mut q = query();
    q.select = vec![
        SelectItem::Column {
            field: Field::column("title"),
            alias: None,
            cast: None,
        },
        SelectItem::Embed(Embed {
            relation: "authors".into(),
            alias: Some("writer".into()),
            hint: None,
            join: Some(JoinType::Inner),
            spread: false,
            select: vec![SelectItem::Star],
        }),
    ];
    q.filters = vec![Filter {
        path: vec!["writer".into()],
        ..filter("name", CompareOp::Eq, "Ursula")
    }];
    let sql = read(&q, "books").unwrap().sql.text;
    assert!(sql.contains(r#"INNER JOIN LATERAL (SELECT row_to_json(pgrst_row) AS body FROM (SELECT "pgrst_1"."id", "pgrst_1"."name" FROM "public"."authors" AS "pgrst_1" WHERE "pgrst_1"."id" = "public"."books"."author_id" AND "pgrst_1"."name" = $1::text) pgrst_row) AS "pgrst_1_j" ON TRUE"#), "{sql}");
    assert!(sql.contains(r#""pgrst_1_j".body AS "writer""#), "{sql}");

    // One-to-many from the other side: an array, never null.
    let mut q = query();
    q.select = vec![SelectItem::Embed(Embed {
        relation: "books".into(),
        alias: None,
        hint: None,
        join: None,
        spread: false,
        select: vec![SelectItem::Column {
            field: Field::column("id"),
            alias: None,
            cast: None,
        }],
    })];
    q.order = vec![Order {
        path: vec!["books".into()],
        terms: vec![OrderTerm {
            relation: None,
            field: Field::column("id"),
            direction: Some(Direction::Desc),
            nulls: Some(Nulls::Last),
        }],
    }];
    q.ranges = vec![PageRange {
        path: vec!["books".into()],
        offset: None,
        limit: Some(1),
    }];
    let sql = read(&q, "authors").unwrap().sql.text;
    assert!(sql.contains(r#"LEFT JOIN LATERAL (SELECT json_agg(pgrst_row) AS body FROM (SELECT "pgrst_1"."id" AS "id" FROM "public"."books" AS "pgrst_1" WHERE "pgrst_1"."author_id" = "public"."authors"."id" ORDER BY "pgrst_1"."id" DESC NULLS LAST LIMIT $1::bigint) pgrst_row)"#), "{sql}");
    assert!(
        sql.contains(r#"coalesce("pgrst_1_j".body, '[]'::json) AS "books""#),
        "{sql}"
    );
}

#[test]
fn logic_trees_and_order() {
    let mut q = query();
    q.logic = vec![LogicFilter {
        path: vec![],
        tree: LogicTree::Expr {
            negated: true,
            op: LogicOp::Or,
            children: vec![
                LogicTree::Condition {
                    field: Field::column("id"),
                    condition: Condition {
                        negated: false,
                        operation: Operation::Compare {
                            op: CompareOp::Lt,
                            value: "2".into(),
                        },
                    },
                },
                LogicTree::Condition {
                    field: Field::column("title"),
                    condition: Condition {
                        negated: false,
                        operation: Operation::Fts {
                            op: FtsOp::Websearch,
                            config: Some("english".into()),
                            value: "sea".into(),
                        },
                    },
                },
            ],
        },
    }];
    q.order = vec![Order {
        path: vec![],
        terms: vec![OrderTerm {
            relation: None,
            field: Field::column("title"),
            direction: None,
            nulls: Some(Nulls::First),
        }],
    }];
    let sql = read(&q, "books").unwrap().sql.text;
    assert!(sql.contains(r#"NOT ("public"."books"."id" < $1::integer OR to_tsvector($2::regconfig, "public"."books"."title") @@ websearch_to_tsquery($2::regconfig, $3::text))"#), "{sql}");
    assert!(
        sql.contains(r#"ORDER BY "public"."books"."title" ASC NULLS FIRST"#),
        "{sql}"
    );
}

#[test]
fn pages_intersect_with_range_and_max_rows() {
    let r = |offset, limit| PageRange {
        path: vec![],
        offset,
        limit,
    };
    assert_eq!(page(None, None, None), (0, None));
    assert_eq!(page(Some(&r(Some(2), Some(3))), None, None), (2, Some(3)));
    assert_eq!(
        page(
            None,
            Some(RangeHeader {
                first: 1,
                last: Some(4)
            }),
            None
        ),
        (1, Some(4))
    );
    assert_eq!(
        page(
            Some(&r(Some(2), Some(10))),
            Some(RangeHeader {
                first: 0,
                last: Some(4)
            }),
            None
        ),
        (2, Some(3))
    );
    assert_eq!(page(Some(&r(None, Some(0))), None, None), (0, Some(0)));
    assert_eq!(page(None, None, Some(5)), (0, Some(5)));
    assert_eq!(page(Some(&r(None, Some(10))), None, Some(5)), (0, Some(5)));
}

#[test]
fn nul_bytes_in_output_names_are_refused() {
    let mut q = query();
    q.select = vec![SelectItem::Column {
        field: Field::column("title"),
        alias: Some("a\0b".into()),
        cast: None,
    }];
    assert_eq!(read(&q, "books").unwrap_err().code(), "22021");
    q.select = vec![SelectItem::Column {
        field: Field {
            name: "meta".into(),
            json_path: vec![JsonOp::DoubleArrow(JsonKey::Key("k\0".into()))],
        },
        alias: None,
        cast: None,
    }];
    assert_eq!(read(&q, "books").unwrap_err().code(), "22021");
}
