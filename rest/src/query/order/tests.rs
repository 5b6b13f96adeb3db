//! `order=`; the error rows are PostgREST's doctests and QuerySpec.

use super::*;
use crate::query::ast::{JsonKey, JsonOp};
use crate::query::parsec::run_str;

fn term(name: &str, direction: Option<Direction>, nulls: Option<Nulls>) -> OrderTerm {
    OrderTerm {
        relation: None,
        field: Field::column(name),
        direction,
        nulls,
    }
}

#[test]
fn terms() {
    let json = |name: &str, key: &str| Field {
        name: name.to_owned(),
        json_path: vec![JsonOp::Arrow(JsonKey::Key(key.to_owned()))],
    };
    let cases: Vec<(&str, Vec<OrderTerm>)> = vec![
        ("id", vec![term("id", None, None)]),
        // supabase-js: .order('created_at', {ascending: false, nullsFirst: false})
        (
            "created_at.desc.nullslast",
            vec![term("created_at", Some(Direction::Desc), Some(Nulls::Last))],
        ),
        (
            "name.desc.nullsfirst",
            vec![term("name", Some(Direction::Desc), Some(Nulls::First))],
        ),
        ("a.nullsfirst", vec![term("a", None, Some(Nulls::First))]),
        (
            "a.asc,b.desc",
            vec![
                term("a", Some(Direction::Asc), None),
                term("b", Some(Direction::Desc), None),
            ],
        ),
        (
            "json_col->key.asc.nullslast",
            vec![OrderTerm {
                field: json("json_col", "key"),
                ..term("", Some(Direction::Asc), Some(Nulls::Last))
            }],
        ),
        (
            "clients(json_col->key).desc.nullsfirst",
            vec![OrderTerm {
                relation: Some("clients".into()),
                field: json("json_col", "key"),
                direction: Some(Direction::Desc),
                nulls: Some(Nulls::First),
            }],
        ),
        (
            "name,clients(name),id",
            vec![
                term("name", None, None),
                OrderTerm {
                    relation: Some("clients".into()),
                    ..term("name", None, None)
                },
                term("id", None, None),
            ],
        ),
    ];
    for (input, want) in cases {
        assert_eq!(run_str(order, input), Ok(want), "order={input}");
    }
}

#[test]
fn mistakes() {
    let dirs = "expecting \"asc\", \"desc\", \"nullsfirst\" or \"nullslast\"";
    let cases: Vec<(&str, u32, String)> = vec![
        (
            "clients(name,id)",
            8,
            "unexpected '(' expecting letter, digit, \"-\", \"->>\", \"->\", delimiter (.), \",\" or end of input".into(),
        ),
        ("id.ac", 4, format!("unexpected \"c\" {dirs}")),
        ("id.descc", 8, "unexpected 'c' expecting delimiter (.), \",\" or end of input".into()),
        ("id.nulsfist", 4, format!("unexpected \"n\" {dirs}")),
        ("id.nullslasttt", 13, "unexpected 't' expecting \",\" or end of input".into()),
        ("id.smth34", 4, format!("unexpected \"s\" {dirs}")),
        ("id.asc.nlsfst", 8, "unexpected \"l\" expecting \"nullsfirst\" or \"nullslast\"".into()),
        ("id.asc.nullslasttt", 17, "unexpected 't' expecting \",\" or end of input".into()),
        ("id.asc.smth34", 8, "unexpected \"s\" expecting \"nullsfirst\" or \"nullslast\"".into()),
        ("", 1, "unexpected end of input expecting field name (* or [a..z0..9_$])".into()),
    ];
    for (input, column, details) in cases {
        assert_eq!(
            run_str(order, input),
            Err((column, details)),
            "order={input}"
        );
    }
}
