//! Filter values: one row per value, the condition or `(column, details)`. "doctest" and
//! "spec" rows are PostgREST's own; the rest follow its grammar.

use super::*;
use crate::query::parsec::run_str;

fn parse(input: &str) -> Result<Condition, (u32, String)> {
    run_str(op_expr(single_value), input)
}

fn cmp(op: CompareOp, value: &str) -> Operation {
    Operation::Compare {
        op,
        value: value.to_owned(),
    }
}

fn yes(operation: Operation) -> Condition {
    Condition {
        negated: false,
        operation,
    }
}

fn not(operation: Operation) -> Condition {
    Condition {
        negated: true,
        operation,
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn every_operator() {
    use CompareOp::*;
    let cases: Vec<(&str, Condition)> = vec![
        ("eq.1", yes(cmp(Eq, "1"))),
        ("neq.a b", yes(cmp(Neq, "a b"))),
        ("gt.5", yes(cmp(Gt, "5"))),
        ("gte.5", yes(cmp(Gte, "5"))),
        ("lt.5", yes(cmp(Lt, "5"))),
        ("lte.5", yes(cmp(Lte, "5"))),
        ("like.*a*b", yes(cmp(Like, "%a%b"))),
        ("ilike.A*", yes(cmp(Ilike, "A%"))),
        ("match.^a.*$", yes(cmp(Match, "^a.*$"))),
        ("imatch.^A", yes(cmp(Imatch, "^A"))),
        ("isdistinct.5", yes(cmp(IsDistinct, "5"))),
        ("cs.{1,2}", yes(cmp(Cs, "{1,2}"))),
        ("cd.{\"a\":1}", yes(cmp(Cd, "{\"a\":1}"))),
        ("ov.[1,5)", yes(cmp(Ov, "[1,5)"))),
        ("sl.(1,10)", yes(cmp(Sl, "(1,10)"))),
        ("sr.(1,10)", yes(cmp(Sr, "(1,10)"))),
        ("nxr.(1,10)", yes(cmp(Nxr, "(1,10)"))),
        ("nxl.(1,10)", yes(cmp(Nxl, "(1,10)"))),
        ("adj.(1,10)", yes(cmp(Adj, "(1,10)"))),
        ("eq.", yes(cmp(Eq, ""))),
        ("eq.a\0b", yes(cmp(Eq, "a\0b"))),
        ("eq.multi\nline", yes(cmp(Eq, "multi\nline"))),
        ("not.eq.1", not(cmp(Eq, "1"))),
        ("not.like.a*", not(cmp(Like, "a%"))),
        ("in.(1,2,3)", yes(Operation::In(strings(&["1", "2", "3"])))),
        // supabase-js quotes items holding `,()`.
        ("in.(\"a,b\",c)", yes(Operation::In(strings(&["a,b", "c"])))),
        (
            "in.(\"a\\\"b\",\"c\\\\d\")",
            yes(Operation::In(strings(&["a\"b", "c\\d"]))),
        ),
        ("in.( 1 , 2 )", yes(Operation::In(strings(&["1 ", " 2 "])))),
        (
            "in.(\"a\"b,c)",
            yes(Operation::In(strings(&["\"a\"b", "c"]))),
        ),
        ("in.()", yes(Operation::In(vec![]))),
        ("in.(\"\")", yes(Operation::In(vec![]))),
        ("in.(,)", yes(Operation::In(strings(&["", ""])))),
        ("not.in.(1)", not(Operation::In(strings(&["1"])))),
        ("is.null", yes(Operation::Is(IsValue::Null))),
        ("is.NULL", yes(Operation::Is(IsValue::Null))),
        ("is.not_null", yes(Operation::Is(IsValue::NotNull))),
        ("is.true", yes(Operation::Is(IsValue::True))),
        ("is.FALSE", yes(Operation::Is(IsValue::False))),
        ("is.unknown", yes(Operation::Is(IsValue::Unknown))),
        ("not.is.null", not(Operation::Is(IsValue::Null))),
        // As in PostgREST, what follows a complete `is` value is ignored.
        ("is.nullx", yes(Operation::Is(IsValue::Null))),
        (
            "fts.cat",
            yes(Operation::Fts {
                op: FtsOp::Fts,
                config: None,
                value: "cat".into(),
            }),
        ),
        (
            "plfts(english).fat cats",
            yes(Operation::Fts {
                op: FtsOp::Plain,
                config: Some("english".into()),
                value: "fat cats".into(),
            }),
        ),
        (
            "phfts(simple).a b",
            yes(Operation::Fts {
                op: FtsOp::Phrase,
                config: Some("simple".into()),
                value: "a b".into(),
            }),
        ),
        (
            "not.wfts.\"a\" -b",
            not(Operation::Fts {
                op: FtsOp::Websearch,
                config: None,
                value: "\"a\" -b".into(),
            }),
        ),
        (
            "eq(any).{a,b}",
            yes(Operation::Quantified {
                op: Eq,
                quantifier: Quantifier::Any,
                values: strings(&["a", "b"]),
            }),
        ),
        (
            "not.eq(all).{1,\"2,3\"}",
            not(Operation::Quantified {
                op: Eq,
                quantifier: Quantifier::All,
                values: strings(&["1", "2,3"]),
            }),
        ),
        (
            "like(any).{a*,*b}",
            yes(Operation::Quantified {
                op: Like,
                quantifier: Quantifier::Any,
                values: strings(&["a%", "%b"]),
            }),
        ),
        (
            "gte(all).{}",
            yes(Operation::Quantified {
                op: Gte,
                quantifier: Quantifier::All,
                values: vec![],
            }),
        ),
    ];
    for (input, want) in cases {
        assert_eq!(parse(input), Ok(want), "{input:?}");
    }
}

#[test]
fn mistakes() {
    let op = "expecting \"not\" or operator (eq, gt, ...)";
    let cases: Vec<(&str, u32, String)> = vec![
        // doctest and spec
        ("noop.0", 1, format!("unexpected \"o\" {op}")),
        ("val", 1, format!("unexpected \"v\" {op}")),
        ("0", 1, format!("unexpected \"0\" {op}")),
        (
            "fts().value",
            5,
            "unexpected \")\" expecting operator (eq, gt, ...)".into(),
        ),
        (
            "eq().value",
            4,
            "unexpected \")\" expecting operator (eq, gt, ...)".into(),
        ),
        (
            "is().value",
            3,
            "unexpected \"(\" expecting operator (eq, gt, ...)".into(),
        ),
        (
            "in().value",
            3,
            "unexpected \"(\" expecting operator (eq, gt, ...)".into(),
        ),
        // the common ones
        ("", 1, format!("unexpected end of input {op}")),
        (
            "eq",
            3,
            "unexpected end of input expecting operator (eq, gt, ...)".into(),
        ),
        (
            "eqq.1",
            3,
            "unexpected \"q\" expecting operator (eq, gt, ...)".into(),
        ),
        (
            "neq(any).{1}",
            4,
            "unexpected \"(\" expecting operator (eq, gt, ...)".into(),
        ),
        (
            "not.xx.1",
            5,
            "unexpected \"x\" expecting operator (eq, gt, ...)".into(),
        ),
        ("in.1,2", 4, "unexpected \"1\" expecting \"(\"".into()),
        (
            "in.(1,2",
            8,
            "unexpected end of input expecting \",\" or \")\"".into(),
        ),
        (
            "is.maybe",
            4,
            "unexpected \"m\" expecting isVal: (null, not_null, true, false, unknown)".into(),
        ),
        ("eq(any).5", 9, "unexpected \"5\" expecting \"{\"".into()),
        (
            "eq(any).{a,NULL}",
            12,
            "unexpected NULL expecting a quoted \"NULL\" (null items cannot be compared)".into(),
        ),
    ];
    for (input, column, details) in cases {
        assert_eq!(parse(input), Err((column, details)), "{input:?}");
    }
}
