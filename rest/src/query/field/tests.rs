//! Names and JSON paths; rows from PostgREST's own doctests where it has them.

use super::*;
use crate::query::parsec::run_str;

fn key(k: &str) -> JsonKey {
    JsonKey::Key(k.to_owned())
}

#[test]
fn field_names() {
    let ok: &[(&str, &str)] = &[
        ("identifier", "identifier"),
        ("identifier with spaces", "identifier with spaces"),
        ("identifier-with-dashes", "identifier-with-dashes"),
        ("123", "123"),
        ("_", "_"),
        ("$", "$"),
        ("\":\"", ":"),
        (
            " no leading or trailing spaces ",
            "no leading or trailing spaces",
        ),
        (
            "\" leading and trailing spaces \"",
            " leading and trailing spaces ",
        ),
        ("\"a\\\"b\"", "a\"b"),
        ("ñandú", "ñandú"),
    ];
    for (input, want) in ok {
        assert_eq!(run_str(field_name, input), Ok(want.to_string()), "{input}");
    }
    let err: &[(&str, u32, &str)] = &[
        (
            ":",
            1,
            "unexpected \":\" expecting field name (* or [a..z0..9_$])",
        ),
        (
            "",
            1,
            "unexpected end of input expecting field name (* or [a..z0..9_$])",
        ),
        // A NUL never becomes part of a name, quoted or not.
        (
            "\"a\0b\"",
            3,
            "unexpected \"\\NUL\" expecting \"\\\\\" or \"\\\"\"",
        ),
        (
            "\"open",
            6,
            "unexpected end of input expecting \"\\\\\" or \"\\\"\"",
        ),
    ];
    for (input, column, details) in err {
        assert_eq!(
            run_str(field_name, input),
            Err((*column, details.to_string())),
            "{input:?}"
        );
    }
}

#[test]
fn json_paths() {
    let ok: &[(&str, Vec<JsonOp>)] = &[
        ("->text", vec![JsonOp::Arrow(key("text"))]),
        ("->!@#$%^&*_a", vec![JsonOp::Arrow(key("!@#$%^&*_a"))]),
        ("->1", vec![JsonOp::Arrow(JsonKey::Index(1))]),
        ("->>text", vec![JsonOp::DoubleArrow(key("text"))]),
        ("->>1", vec![JsonOp::DoubleArrow(JsonKey::Index(1))]),
        ("->0,other", vec![JsonOp::Arrow(JsonKey::Index(0))]),
        ("->0.desc", vec![JsonOp::Arrow(JsonKey::Index(0))]),
        ("->-1", vec![JsonOp::Arrow(JsonKey::Index(-1))]),
        // Not followed by `->`, `::`, `.`, `,` or the end, an integer is a key.
        ("->0)", vec![JsonOp::Arrow(key("0"))]),
        (
            "->\"a.b\"->>c",
            vec![JsonOp::Arrow(key("a.b")), JsonOp::DoubleArrow(key("c"))],
        ),
        ("->a-b", vec![JsonOp::Arrow(key("a-b"))]),
        ("-> spaced key ", vec![JsonOp::Arrow(key("spaced key"))]),
    ];
    for (input, want) in ok {
        assert_eq!(run_str(json_path, input).as_ref(), Ok(want), "{input}");
    }
    let err: &[(&str, u32, &str)] = &[
        (
            "->>-78xy",
            7,
            "unexpected 'x' expecting digit, \"->\", \"::\", \".\", \",\" or end of input",
        ),
        ("->>--34", 5, "unexpected \"-\" expecting digit"),
        ("->>-xy-4", 5, "unexpected \"x\" expecting digit"),
        (
            "->(x",
            3,
            "unexpected \"(\" expecting \"-\", digit or any non reserved character different from: .,>()",
        ),
        (
            "->99999999999999999999",
            3,
            "unexpected \"99999999999999999999\" expecting an array index between -9223372036854775808 and 9223372036854775807",
        ),
    ];
    for (input, column, details) in err {
        assert_eq!(
            run_str(json_path, input),
            Err((*column, details.to_string())),
            "{input:?}"
        );
    }
}

#[test]
fn tree_paths_reach_embeds_and_ignore_what_follows() {
    let cases: &[(&str, &[&str], &str, usize)] = &[
        ("id", &[], "id", 0),
        ("clients.id", &["clients"], "id", 0),
        ("clients.projects.name", &["clients", "projects"], "name", 0),
        ("data->a->>b", &[], "data", 2),
        ("rel.data->a", &["rel"], "data", 1),
        ("\"a.b\".c", &["a.b"], "c", 0),
        // PostgREST reads as far as it can and drops the rest of the key.
        ("id)x", &[], "id", 0),
        ("id!inner", &[], "id", 0),
    ];
    for (input, path, name, steps) in cases {
        let (p, f) = run_str(tree_path, input).unwrap_or_else(|e| panic!("{input}: {e:?}"));
        assert_eq!(p, *path, "{input}");
        assert_eq!(f.name, *name, "{input}");
        assert_eq!(f.json_path.len(), *steps, "{input}");
    }
}

#[test]
fn column_lists() {
    assert_eq!(
        run_str(columns, "\"a\",\"b\""),
        Ok(vec!["a".to_owned(), "b".to_owned()])
    );
    assert_eq!(
        run_str(columns, "a, b ,c"),
        Ok(vec!["a".to_owned(), "b".to_owned(), "c".to_owned()])
    );
    assert_eq!(
        run_str(columns, ""),
        Err((
            1,
            "unexpected end of input expecting field name (* or [a..z0..9_$])".to_owned()
        ))
    );
}
