//! Property test: a generated AST, rendered to a query string the way a client writes it
//! (names double-quoted, free text quoted inside logic trees, everything percent-encoded),
//! parses back to the same AST. The generators keep to what the grammar can say: no `*` in
//! `like` values (it becomes `%`), no trailing array index before a `)` (it reads as a key),
//! no `in.("")` (it reads as the empty list).

mod render;

use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};

use super::ast::*;
use super::fuzz_tests::config;
use super::parse_query;

/// Any text without NUL, rendered quoted; never the names the grammar gives a meaning.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z_][a-z0-9_]{0,7}",
        2 => "[ a-z.,()\"\\\\:>!*-]{0,6}",
        1 => any::<String>().prop_map(|s| s.replace('\0', "")),
    ]
    .prop_filter("a name the grammar reads specially", |s| {
        !matches!(s.as_str(), "*" | "count" | "not")
    })
}

fn ident() -> impl Strategy<Value = String> {
    "[a-z_][a-z0-9_]{0,7}"
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![3 => "[a-zA-Z0-9 .,()\"{}\\\\-]{0,10}", 1 => any::<String>()]
}

fn json_key(index_allowed: bool) -> BoxedStrategy<JsonKey> {
    if index_allowed {
        prop_oneof![
            2 => name().prop_map(JsonKey::Key),
            1 => any::<i64>().prop_map(JsonKey::Index)
        ]
        .boxed()
    } else {
        name().prop_map(JsonKey::Key).boxed()
    }
}

/// A field; `index_last` says whether its path may end in an array index (not where a `)`
/// follows it: PostgREST then reads the integer as a key).
fn field(index_last: bool) -> impl Strategy<Value = Field> {
    (
        name(),
        prop::collection::vec((any::<bool>(), json_key(true)), 0..3),
        proptest::option::of((any::<bool>(), json_key(index_last))),
    )
        .prop_map(move |(name, mut steps, last)| {
            steps.extend(last);
            if !index_last {
                no_trailing_index(&mut steps);
            }
            Field {
                name,
                json_path: steps
                    .into_iter()
                    .map(|(double, key)| {
                        if double {
                            JsonOp::DoubleArrow(key)
                        } else {
                            JsonOp::Arrow(key)
                        }
                    })
                    .collect(),
            }
        })
}

/// Where `)` follows, a trailing integer reads as a key: make it one.
fn no_trailing_index(steps: &mut [(bool, JsonKey)]) {
    if let Some((_, key)) = steps.last_mut()
        && let JsonKey::Index(i) = *key
    {
        *key = JsonKey::Key(format!("{i}x"));
    }
}

fn compare_op() -> impl Strategy<Value = CompareOp> {
    use CompareOp::*;
    proptest::sample::select(vec![
        Eq, Neq, Gt, Gte, Lt, Lte, Like, Ilike, Match, Imatch, IsDistinct, Cs, Cd, Ov, Sl, Sr, Nxr,
        Nxl, Adj,
    ])
}

fn quant_op() -> impl Strategy<Value = CompareOp> {
    use CompareOp::*;
    proptest::sample::select(vec![Eq, Gt, Gte, Lt, Lte, Like, Ilike, Match, Imatch])
}

/// `*` would become `%` in `like`/`ilike`; `in_tree` keeps `{}` out of array items (a logic
/// tree reads an array up to its first brace).
fn operation(in_tree: bool) -> impl Strategy<Value = Operation> {
    let no_star = |op: CompareOp, v: String| {
        if matches!(op, CompareOp::Like | CompareOp::Ilike) {
            v.replace('*', "")
        } else {
            v
        }
    };
    let item = move || {
        value().prop_map(move |v| {
            if in_tree {
                v.replace(['{', '}'], "")
            } else {
                v
            }
        })
    };
    prop_oneof![
        4 => (compare_op(), value()).prop_map(move |(op, v)| Operation::Compare { op, value: no_star(op, v) }),
        2 => (quant_op(), any::<bool>(), prop::collection::vec(item(), 0..4)).prop_map(
            move |(op, all, values)| Operation::Quantified {
                op,
                quantifier: if all { Quantifier::All } else { Quantifier::Any },
                values: values.into_iter().map(|v| no_star(op, v)).collect(),
            }
        ),
        2 => prop::collection::vec(value(), 0..4)
            .prop_filter("[\"\"] reads as the empty list", |items| items != &[String::new()])
            .prop_map(Operation::In),
        1 => proptest::sample::select(vec![
            IsValue::Null, IsValue::NotNull, IsValue::True, IsValue::False, IsValue::Unknown
        ])
        .prop_map(Operation::Is),
        1 => (
            proptest::sample::select(vec![FtsOp::Fts, FtsOp::Plain, FtsOp::Phrase, FtsOp::Websearch]),
            proptest::option::of(ident()),
            value()
        )
            .prop_map(|(op, config, value)| Operation::Fts { op, config, value }),
    ]
}

fn condition(in_tree: bool) -> impl Strategy<Value = Condition> {
    (any::<bool>(), operation(in_tree))
        .prop_map(|(negated, operation)| Condition { negated, operation })
}

fn select_items(depth: u32) -> BoxedStrategy<Vec<SelectItem>> {
    let inside = depth > 0;
    let column = (
        field(!inside),
        proptest::option::of(name()),
        proptest::option::of(ident()),
    )
        .prop_map(|(field, alias, cast)| SelectItem::Column { field, alias, cast });
    let aggregate = (
        proptest::sample::select(vec![
            AggregateFunction::Sum,
            AggregateFunction::Avg,
            AggregateFunction::Count,
            AggregateFunction::Max,
            AggregateFunction::Min,
        ]),
        proptest::option::of(field(true)),
        proptest::option::of(ident()),
        proptest::option::of(ident()),
        proptest::option::of(name()),
    )
        .prop_map(
            |(function, field, cast, aggregate_cast, alias)| match field {
                Some(field) => SelectItem::Aggregate {
                    function,
                    field: Some(field),
                    cast,
                    aggregate_cast,
                    alias,
                },
                None => SelectItem::Aggregate {
                    function: AggregateFunction::Count,
                    field: None,
                    cast: None,
                    aggregate_cast,
                    alias,
                },
            },
        );
    let leaf = prop_oneof![4 => column, 1 => Just(SelectItem::Star), 1 => aggregate].boxed();
    if depth >= 3 {
        return prop::collection::vec(leaf, 0..4).boxed();
    }
    let embed = (
        name(),
        proptest::option::of(name()),
        proptest::option::of(name()),
        proptest::option::of(proptest::sample::select(vec![
            JoinType::Inner,
            JoinType::Left,
        ])),
        any::<bool>(),
        select_items(depth + 1),
    )
        .prop_map(|(relation, alias, hint, join, spread, select)| {
            SelectItem::Embed(Embed {
                relation,
                alias: if spread { None } else { alias },
                hint,
                join,
                spread,
                select,
            })
        });
    prop::collection::vec(prop_oneof![3 => leaf, 1 => embed], 0..4).boxed()
}

fn logic_tree(depth: u32) -> BoxedStrategy<LogicTree> {
    let leaf = (field(true), condition(true))
        .prop_map(|(field, condition)| LogicTree::Condition { field, condition });
    let expr = move |children: BoxedStrategy<LogicTree>| {
        (
            any::<bool>(),
            any::<bool>(),
            prop::collection::vec(children, 1..4),
        )
            .prop_map(|(negated, and, children)| LogicTree::Expr {
                negated,
                op: if and { LogicOp::And } else { LogicOp::Or },
                children,
            })
    };
    if depth >= 3 {
        return expr(leaf.boxed()).boxed();
    }
    expr(prop_oneof![2 => leaf, 1 => logic_tree(depth + 1)].boxed()).boxed()
}

fn path() -> impl Strategy<Value = EmbedPath> {
    prop::collection::vec(name(), 0..3)
}

fn order_term() -> impl Strategy<Value = OrderTerm> {
    (
        proptest::option::of(name()),
        field(true),
        field(false),
        proptest::option::of(proptest::sample::select(vec![
            Direction::Asc,
            Direction::Desc,
        ])),
        proptest::option::of(proptest::sample::select(vec![Nulls::First, Nulls::Last])),
    )
        .prop_map(
            |(relation, column, inside_parens, direction, nulls)| OrderTerm {
                // Inside `rel(...)` a trailing index would read as a key.
                field: if relation.is_some() {
                    inside_parens
                } else {
                    column
                },
                relation,
                direction,
                nulls,
            },
        )
}

fn query() -> impl Strategy<Value = QueryParams> {
    (
        prop_oneof![1 => Just(vec![SelectItem::Star]), 3 => select_items(0)],
        prop::collection::vec((path(), field(true), condition(false)), 0..4),
        prop::collection::vec((path(), logic_tree(0)), 0..3),
        prop::collection::vec((path(), prop::collection::vec(order_term(), 1..3)), 0..3),
        prop::collection::vec(
            (
                path(),
                proptest::option::of(0u64..1000),
                proptest::option::of(1u64..1000),
            ),
            0..3,
        ),
        proptest::option::of(prop::collection::vec(name(), 1..4)),
        proptest::option::of(prop::collection::vec(name(), 1..4)),
    )
        .prop_map(
            |(select, filters, logic, order, ranges, columns, on_conflict)| {
                let mut seen = Vec::new();
                QueryParams {
                    select,
                    filters: filters
                        .into_iter()
                        .map(|(path, field, condition)| Filter {
                            path,
                            field,
                            condition,
                        })
                        .collect(),
                    logic: logic
                        .into_iter()
                        .filter(|(_, tree)| matches!(tree, LogicTree::Expr { .. }))
                        .map(|(path, tree)| LogicFilter { path, tree })
                        .collect(),
                    order: order
                        .into_iter()
                        .map(|(path, terms)| Order { path, terms })
                        .collect(),
                    ranges: ranges
                        .into_iter()
                        .filter(|(p, o, l)| {
                            (o.is_some() || l.is_some()) && {
                                let fresh = !seen.contains(p);
                                seen.push(p.clone());
                                fresh
                            }
                        })
                        .map(|(path, offset, limit)| PageRange {
                            path,
                            offset,
                            limit,
                        })
                        .collect(),
                    columns: columns.map(|mut c| {
                        c.sort();
                        c.dedup();
                        c
                    }),
                    on_conflict,
                    rpc_args: Vec::new(),
                    canonical: String::new(),
                }
            },
        )
}

#[test]
fn rendered_asts_parse_back_to_themselves() {
    let cases = AtomicUsize::new(0);
    let mut runner = TestRunner::new(config());
    let result = runner.run(&query(), |want| {
        cases.fetch_add(1, Ordering::Relaxed);
        let text = render::query(&want);
        let mut got = parse_query(&text, Target::Relation)
            .map_err(|e| TestCaseError::fail(format!("{text}: {e:?}")))?;
        got.canonical = String::new();
        prop_assert_eq!(got, want, "query string: {}", text);
        Ok(())
    });
    println!(
        "round trip query grammar: {} cases run, all parsed back equal: {}",
        cases.load(Ordering::Relaxed),
        result.is_ok()
    );
    if let Err(failure) = result {
        panic!("{failure}");
    }
}
