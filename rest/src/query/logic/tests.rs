//! Logic trees as PostgREST parses them: the operator glued to the value (`or` + `(...)`).

use super::*;
use crate::query::ast::{CompareOp, Condition, Field, Operation};
use crate::query::parsec::run_str;

fn parse(input: &str) -> Result<LogicTree, (u32, String)> {
    run_str(|src: &[char], st: State| logic_tree(src, st, 0), input)
}

fn cond(name: &str, op: CompareOp, value: &str) -> LogicTree {
    LogicTree::Condition {
        field: Field::column(name),
        condition: Condition {
            negated: false,
            operation: Operation::Compare {
                op,
                value: value.to_owned(),
            },
        },
    }
}

fn expr(negated: bool, op: LogicOp, children: Vec<LogicTree>) -> LogicTree {
    LogicTree::Expr {
        negated,
        op,
        children,
    }
}

#[test]
fn trees() {
    use CompareOp::*;
    let cases: Vec<(&str, LogicTree)> = vec![
        // supabase-js: .or('age.lt.18,and(a.eq.1,b.eq.2)')
        (
            "or(age.lt.18,and(a.eq.1,b.eq.2))",
            expr(
                false,
                LogicOp::Or,
                vec![
                    cond("age", Lt, "18"),
                    expr(
                        false,
                        LogicOp::And,
                        vec![cond("a", Eq, "1"), cond("b", Eq, "2")],
                    ),
                ],
            ),
        ),
        (
            "not.and( a.gte.1 , not.or(b.eq.2) )",
            expr(
                true,
                LogicOp::And,
                vec![
                    cond("a", Gte, "1 "),
                    expr(true, LogicOp::Or, vec![cond("b", Eq, "2")]),
                ],
            ),
        ),
        // Quoted values hold `,()`; `{...}` arrays hold commas.
        (
            "or(name.eq.\"a,(b)\",tags.cs.{x,y})",
            expr(
                false,
                LogicOp::Or,
                vec![cond("name", Eq, "a,(b)"), cond("tags", Cs, "{x,y}")],
            ),
        ),
        (
            "or(a.in.(1,\"2,3\"),b.is.null)",
            expr(
                false,
                LogicOp::Or,
                vec![
                    LogicTree::Condition {
                        field: Field::column("a"),
                        condition: Condition {
                            negated: false,
                            operation: Operation::In(vec!["1".into(), "2,3".into()]),
                        },
                    },
                    LogicTree::Condition {
                        field: Field::column("b"),
                        condition: Condition {
                            negated: false,
                            operation: Operation::Is(crate::query::ast::IsValue::Null),
                        },
                    },
                ],
            ),
        ),
        (
            "or(a.eq.)",
            expr(false, LogicOp::Or, vec![cond("a", Eq, "")]),
        ),
    ];
    for (input, want) in cases {
        assert_eq!(parse(input), Ok(want), "{input}");
    }
}

#[test]
fn mistakes() {
    let cases: &[(&str, u32, &str)] = &[
        // doctest and spec (AndOrParamsSpec: `or=()`)
        (
            "or()",
            4,
            "unexpected \")\" expecting field name (* or [a..z0..9_$]), negation operator (not) or logic operator (and, or)",
        ),
        (
            "or(id.in.1,2,id.eq.3)",
            10,
            "unexpected \"1\" expecting \"(\"",
        ),
        ("or)(", 3, "unexpected \")\" expecting \"(\""),
        (
            "and(ord(id.eq.1,id.eq.1),id.eq.2)",
            7,
            "unexpected \"d\" expecting \"(\"",
        ),
        (
            "or(id.eq.1,not.xor(id.eq.2,id.eq.3))",
            16,
            "unexpected \"x\" expecting logic operator (and, or)",
        ),
        // unbalanced
        (
            "or(a.eq.1",
            10,
            "unexpected end of input expecting \",\" or \")\"",
        ),
        (
            "or(a.eq.1,and(b.eq.2)",
            22,
            "unexpected end of input expecting \",\" or \")\"",
        ),
        (
            "or(a.xx.1)",
            6,
            "unexpected \"x\" expecting \"not\" or operator (eq, gt, ...)",
        ),
    ];
    for (input, column, details) in cases {
        assert_eq!(parse(input), Err((*column, details.to_string())), "{input}");
    }
}

#[test]
fn paths() {
    let cases: &[(&str, &[&str], &str)] = &[
        ("or", &[], "or"),
        ("not.or", &[], "not.or"),
        ("children.and", &["children"], "and"),
        ("children.not.or", &["children"], "not.or"),
        ("a.b.or", &["a", "b"], "or"),
    ];
    for (input, path, op) in cases {
        let (p, o) = run_str(logic_path, input).unwrap_or_else(|e| panic!("{input}: {e:?}"));
        assert_eq!(p, *path, "{input}");
        assert_eq!(o, *op, "{input}");
    }
}

#[test]
fn nesting_is_capped() {
    let depth = crate::query::parsec::MAX_DEPTH;
    let tree = |levels: usize| format!("{}a.eq.1{}", "or(".repeat(levels), ")".repeat(levels));
    assert!(parse(&tree(depth)).is_ok());
    let (column, details) = parse(&tree(depth + 1)).unwrap_err();
    assert_eq!(column, depth as u32 * 3 + 3);
    assert_eq!(
        details,
        format!("logic trees nested deeper than {depth} levels; flatten the request")
    );
}
