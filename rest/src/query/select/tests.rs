//! `select=`: one row per input, the expected items or `(column, details)`. Rows marked
//! "doctest" are PostgREST's own examples (QueryParams.hs), "spec" its HTTP tests.

use super::*;
use crate::query::ast::{JsonKey, JsonOp};
use crate::query::parsec::run_str;

fn col(name: &str) -> SelectItem {
    SelectItem::Column {
        field: Field::column(name),
        alias: None,
        cast: None,
    }
}

fn embed(relation: &str, select: Vec<SelectItem>) -> Embed {
    Embed {
        relation: relation.to_owned(),
        alias: None,
        hint: None,
        join: None,
        spread: false,
        select,
    }
}

fn parse(input: &str) -> Result<Vec<SelectItem>, (u32, String)> {
    run_str(field_forest(0), input)
}

#[test]
fn items_and_embeds() {
    let arrow = |k: &str| JsonOp::Arrow(JsonKey::Key(k.to_owned()));
    let cases: Vec<(&str, Vec<SelectItem>)> = vec![
        ("", vec![]),
        ("*", vec![SelectItem::Star]),
        ("id", vec![col("id")]),
        ("id,name", vec![col("id"), col("name")]),
        (" id , name ", vec![col("id"), col("name")]),
        ("\"*\"", vec![SelectItem::Star]),
        (
            "alias:name->jsonpath::cast",
            vec![SelectItem::Column {
                field: Field {
                    name: "name".into(),
                    json_path: vec![arrow("jsonpath")],
                },
                alias: Some("alias".into()),
                cast: Some("cast".into()),
            }],
        ),
        (
            "alias:name->!@#$%^&*_a::cast",
            vec![SelectItem::Column {
                field: Field {
                    name: "name".into(),
                    json_path: vec![arrow("!@#$%^&*_a")],
                },
                alias: Some("alias".into()),
                cast: Some("cast".into()),
            }],
        ),
        (
            "name::character varying",
            vec![SelectItem::Column {
                field: Field::column("name"),
                alias: None,
                cast: Some("character varying".into()),
            }],
        ),
        // supabase-js: select('id, name, children(id)') without spaces.
        (
            "id,name,children(id)",
            vec![
                col("id"),
                col("name"),
                SelectItem::Embed(embed("children", vec![col("id")])),
            ],
        ),
        ("client()", vec![SelectItem::Embed(embed("client", vec![]))]),
        (
            "*,client(*,nested(*))",
            vec![
                SelectItem::Star,
                SelectItem::Embed(embed(
                    "client",
                    vec![
                        SelectItem::Star,
                        SelectItem::Embed(embed("nested", vec![SelectItem::Star])),
                    ],
                )),
            ],
        ),
        (
            "*,...client(*),other(*)",
            vec![
                SelectItem::Star,
                SelectItem::Embed(Embed {
                    spread: true,
                    ..embed("client", vec![SelectItem::Star])
                }),
                SelectItem::Embed(embed("other", vec![SelectItem::Star])),
            ],
        ),
        (
            "alias:rel!inner!hint(*)",
            vec![SelectItem::Embed(Embed {
                alias: Some("alias".into()),
                hint: Some("hint".into()),
                join: Some(JoinType::Inner),
                ..embed("rel", vec![SelectItem::Star])
            })],
        ),
        (
            "rel!fk_name!left(id)",
            vec![SelectItem::Embed(Embed {
                hint: Some("fk_name".into()),
                join: Some(JoinType::Left),
                ..embed("rel", vec![col("id")])
            })],
        ),
        (
            "...rel!hint!inner(*)",
            vec![SelectItem::Embed(Embed {
                spread: true,
                hint: Some("hint".into()),
                join: Some(JoinType::Inner),
                ..embed("rel", vec![SelectItem::Star])
            })],
        ),
        // PostgREST stops after the last item it reads, and an unreadable first item leaves
        // nothing read: `select=*!hint` selects no column at all (PostgREST does the same).
        ("id)", vec![col("id")]),
        ("*!hint", vec![]),
    ];
    for (input, want) in cases {
        assert_eq!(parse(input), Ok(want), "select={input}");
    }
}

#[test]
fn aggregates() {
    let cases: Vec<(&str, SelectItem)> = vec![
        (
            "count()",
            SelectItem::Aggregate {
                function: AggregateFunction::Count,
                field: None,
                cast: None,
                aggregate_cast: None,
                alias: None,
            },
        ),
        (
            "total:count()::int",
            SelectItem::Aggregate {
                function: AggregateFunction::Count,
                field: None,
                cast: None,
                aggregate_cast: Some("int".into()),
                alias: Some("total".into()),
            },
        ),
        (
            "price::numeric.avg()::int",
            SelectItem::Aggregate {
                function: AggregateFunction::Avg,
                field: Some(Field::column("price")),
                cast: Some("numeric".into()),
                aggregate_cast: Some("int".into()),
                alias: None,
            },
        ),
        (
            "amount.min()",
            SelectItem::Aggregate {
                function: AggregateFunction::Min,
                field: Some(Field::column("amount")),
                cast: None,
                aggregate_cast: None,
                alias: None,
            },
        ),
    ];
    for (input, want) in cases {
        assert_eq!(parse(input), Ok(vec![want]), "select={input}");
    }
}

#[test]
fn mistakes() {
    let cases: &[(&str, u32, &str)] = &[
        // doctest
        (
            "id,clients(name[])",
            16,
            "unexpected '[' expecting letter, digit, \"-\", \"->>\", \"->\", \"::\", \".\", \")\", \",\" or end of input",
        ),
        (
            "data->>-78xy",
            11,
            "unexpected 'x' expecting digit, \"->\", \"::\", \".\", \",\" or end of input",
        ),
        (
            "name!hint",
            5,
            "unexpected '!' expecting letter, digit, \"-\", \"->>\", \"->\", \"::\", \".\", \")\", \",\" or end of input",
        ),
        (
            "name::",
            7,
            "unexpected end of input expecting letter or digit",
        ),
        (
            "rel->jsonpath(*)",
            14,
            "unexpected '(' expecting \"->>\", \"->\", \"::\", \".\", \")\", \",\" or end of input",
        ),
        // spec: JsonOperatorSpec
        ("data->>--34", 9, "unexpected \"-\" expecting digit"),
        (
            "data->(!@#$%^&*_d->>!@#$%^&*_e::integer",
            7,
            "unexpected \"(\" expecting \"-\", digit or any non reserved character different from: .,>()",
        ),
        // Unbalanced parentheses.
        (
            "clients(id",
            11,
            "unexpected end of input expecting letter, digit, \"-\", \"->>\", \"->\", \"::\", \".\", \")\", \",\" or end of input",
        ),
        (
            "id,",
            4,
            "unexpected end of input expecting \"...\", field name (* or [a..z0..9_$]), \"*\" or \"count()\"",
        ),
        // Parsec's `notFollowedBy` leaks its expectation (`":"`) into the next error.
        (
            "alias:...rel(*)",
            7,
            "unexpected \".\" expecting \":\" or field name (* or [a..z0..9_$])",
        ),
    ];
    for (input, column, details) in cases {
        assert_eq!(
            parse(input),
            Err((*column, details.to_string())),
            "select={input}"
        );
    }
}

#[test]
fn a_single_item_fails_as_pfieldselect_does() {
    // doctest: PostgREST runs these against `pFieldSelect` alone.
    assert_eq!(
        run_str(field_select, "*!hint"),
        Err((
            2,
            "unexpected '!' expecting \")\", \",\" or end of input".to_owned()
        ))
    );
    // doctest: `pRelationSelect` alone.
    assert_eq!(
        run_str(relation_select, "rel->jsonpath(*)").map(|_| ()),
        Err((6, "unexpected '>'".to_owned()))
    );
    assert_eq!(
        run_str(spread_select, "alias:...rel(*)").map(|_| ()),
        Err((1, "unexpected \"a\" expecting \"...\"".to_owned()))
    );
    assert_eq!(
        run_str(spread_select, "...rel->jsonpath(*)").map(|_| ()),
        Err((9, "unexpected '>'".to_owned()))
    );
}

#[test]
fn nesting_is_capped_with_an_error_not_a_stack_overflow() {
    let depth = crate::query::parsec::MAX_DEPTH;
    let ok = format!("{}id{}", "a(".repeat(depth), ")".repeat(depth));
    assert!(parse(&ok).is_ok());
    let deep = format!("{}id{}", "a(".repeat(depth + 1), ")".repeat(depth + 1));
    let (column, details) = parse(&deep).unwrap_err();
    assert_eq!(column, (depth as u32 + 1) * 2);
    assert_eq!(
        details,
        format!("embedded resources nested deeper than {depth} levels; flatten the request")
    );
    let huge = "a(".repeat(100_000);
    assert!(parse(&huge).is_err());
}
