//! Whole query strings as supabase-js (URLSearchParams: `+` for spaces, `,()":` encoded) and
//! supabase-py put them on the wire, through [`super::parse_query`]; and PGRST100 as a client
//! receives it (contract §4.1, §4.2; PostgREST's QuerySpec, AndOrParamsSpec, InsertSpec).

use super::ast::*;
use super::parse_query;
use crate::ApiError;

fn parse(query: &str) -> QueryParams {
    parse_query(query, Target::Relation).unwrap_or_else(|e| panic!("{query}: {e:?}"))
}

fn pgrst100(query: &str, target: Target) -> (String, String) {
    match parse_query(query, target) {
        Err(ApiError::ParseQuery { message, details }) => (message, details),
        other => panic!("{query}: expected PGRST100, got {other:?}"),
    }
}

fn eq(name: &str, value: &str) -> Filter {
    Filter {
        path: vec![],
        field: Field::column(name),
        condition: Condition {
            negated: false,
            operation: Operation::Compare {
                op: CompareOp::Eq,
                value: value.to_owned(),
            },
        },
    }
}

#[test]
fn supabase_js_select_filters_and_order() {
    let q = parse(
        "select=id%2Cname%2Cchildren%28id%29&name=eq.John+Doe&order=created_at.desc.nullslast&offset=10&limit=5",
    );
    assert_eq!(q.select.len(), 3);
    assert!(matches!(&q.select[2], SelectItem::Embed(e) if e.relation == "children"));
    assert_eq!(q.filters, vec![eq("name", "John Doe")]);
    assert_eq!(q.order[0].terms[0].nulls, Some(Nulls::Last));
    assert_eq!(
        q.ranges,
        vec![PageRange {
            path: vec![],
            offset: Some(10),
            limit: Some(5)
        }]
    );
    assert_eq!(
        q.canonical,
        "limit=5&name=eq.John%20Doe&offset=10&order=created_at.desc.nullslast&select=id%2Cname%2Cchildren%28id%29"
    );
}

#[test]
fn supabase_js_in_or_and_referenced_tables() {
    let q = parse(
        "status=in.%28%22a%2Cb%22%2Cc%29&or=%28age.lt.18%2Cand%28a.eq.1%2Cb.eq.2%29%29&children.or=%28x.is.null%29&children.order=id.asc&children.limit=3",
    );
    assert_eq!(
        q.filters[0].condition.operation,
        Operation::In(vec!["a,b".into(), "c".into()])
    );
    assert_eq!(q.logic.len(), 2);
    assert_eq!(q.logic[0].path, Vec::<String>::new());
    assert!(
        matches!(&q.logic[0].tree, LogicTree::Expr { op: LogicOp::Or, children, .. } if children.len() == 2)
    );
    assert_eq!(q.logic[1].path, vec!["children".to_owned()]);
    assert_eq!(q.order[0].path, vec!["children".to_owned()]);
    assert_eq!(q.ranges[0].path, vec!["children".to_owned()]);
    assert_eq!(q.ranges[0].limit, Some(3));
    // .not('a', 'is', null), .match({...}), .filter('tags', 'cs', '{1,2}')
    let q = parse("a=not.is.null&b=eq.1&c=eq.2&tags=cs.%7B1%2C2%7D&not.or=%28d.eq.1%29");
    assert!(q.filters[0].condition.negated);
    assert_eq!(q.filters[1], eq("b", "1"));
    assert_eq!(
        q.filters[3].condition.operation,
        Operation::Compare {
            op: CompareOp::Cs,
            value: "{1,2}".into()
        }
    );
    assert!(matches!(
        q.logic[0].tree,
        LogicTree::Expr {
            negated: true,
            op: LogicOp::Or,
            ..
        }
    ));
}

#[test]
fn supabase_inserts_and_upserts() {
    // insert([...]) / upsert(..., {onConflict}) from supabase-js and supabase-py.
    let q = parse("columns=%22b%22%2C%22a%22%2C%22a%22&on_conflict=id&select=*");
    assert_eq!(q.columns, Some(vec!["a".to_owned(), "b".to_owned()]));
    assert_eq!(q.on_conflict, Some(vec!["id".to_owned()]));
    assert_eq!(q.select, vec![SelectItem::Star]);
    let q = parse("columns=a,b&on_conflict=a,b");
    assert_eq!(q.columns, Some(vec!["a".to_owned(), "b".to_owned()]));
    assert_eq!(q.on_conflict, Some(vec!["a".to_owned(), "b".to_owned()]));
    // InsertSpec: an empty `columns`.
    assert_eq!(
        pgrst100("columns=", Target::Relation),
        (
            "\"failed to parse columns parameter ()\" (line 1, column 1)".into(),
            "unexpected end of input expecting field name (* or [a..z0..9_$])".into()
        )
    );
}

#[test]
fn what_postgrest_ignores() {
    let q = parse("select&a&&limit=abc");
    assert_eq!(q.select, vec![SelectItem::Star]);
    assert!(q.filters.is_empty() && q.ranges.is_empty());
    assert_eq!(q.canonical, "=&a=&limit=abc&select=");
    // `select=` selects nothing; the first `select` wins.
    assert_eq!(parse("select=").select, vec![]);
    assert_eq!(parse("select=id&select=name").select.len(), 1);
    // A key with an empty value is not ignored: it is a filter that does not parse.
    assert_eq!(
        pgrst100("a=", Target::Relation),
        (
            "\"failed to parse filter ()\" (line 1, column 1)".into(),
            "unexpected end of input expecting \"not\" or operator (eq, gt, ...)".into()
        )
    );
}

#[test]
fn pgrst100_as_clients_receive_it() {
    let cases: &[(&str, &str, &str)] = &[
        // QuerySpec
        (
            "id=0",
            "\"failed to parse filter (0)\" (line 1, column 1)",
            "unexpected \"0\" expecting \"not\" or operator (eq, gt, ...)",
        ),
        (
            "order=id.asc.nullslasttt",
            "\"failed to parse order (id.asc.nullslasttt)\" (line 1, column 17)",
            "unexpected 't' expecting \",\" or end of input",
        ),
        // AndOrParamsSpec: the column counts from `or` glued to the value.
        (
            "or=()",
            "\"failed to parse logic tree (())\" (line 1, column 4)",
            "unexpected \")\" expecting field name (* or [a..z0..9_$]), negation operator (not) or logic operator (and, or)",
        ),
        // JsonOperatorSpec
        (
            "select=data->>--34",
            "\"failed to parse select parameter (data->>--34)\" (line 1, column 9)",
            "unexpected \"-\" expecting digit",
        ),
        (
            "id=is..1",
            "\"failed to parse filter (is..1)\" (line 1, column 4)",
            "unexpected \".\" expecting isVal: (null, not_null, true, false, unknown)",
        ),
        (
            "id=in.(1,2",
            "\"failed to parse filter (in.(1,2)\" (line 1, column 8)",
            "unexpected end of input expecting \",\" or \")\"",
        ),
        (
            "!!=eq.1",
            "\"failed to parse tree path (!!)\" (line 1, column 1)",
            "unexpected \"!\" expecting field name (* or [a..z0..9_$])",
        ),
        (
            "x.order=id.up",
            "\"failed to parse order (id.up)\" (line 1, column 4)",
            "unexpected \"u\" expecting \"asc\", \"desc\", \"nullsfirst\" or \"nullslast\"",
        ),
    ];
    for (query, message, details) in cases {
        assert_eq!(
            pgrst100(query, Target::Relation),
            (message.to_string(), details.to_string()),
            "{query}"
        );
    }
}

#[test]
fn a_value_is_everything_after_the_operator() {
    // `eq..1` is `= '.1'` in PostgREST too: a filter's value is the rest of the text.
    assert_eq!(parse("id=eq..1").filters, vec![eq("id", ".1")]);
    assert_eq!(parse("id=eq.a.b,c(d)").filters, vec![eq("id", "a.b,c(d)")]);
}

#[test]
fn postgrest_reports_the_first_mistake_in_its_own_order() {
    // order before select before filters, whatever the query's order.
    let (message, _) = pgrst100("id=xx&select=a(&order=.", Target::Relation);
    assert!(message.starts_with("\"failed to parse order"), "{message}");
    let (message, _) = pgrst100("id=xx&select=a(", Target::Relation);
    assert!(message.starts_with("\"failed to parse select"), "{message}");
}

#[test]
fn rpc_reads_take_arguments_from_keys_without_operators() {
    let q = parse_query(
        "name=John&age=gt.5&tags=%7B1%2C2%7D&select=id&x.y=1",
        Target::RpcRead,
    )
    .unwrap();
    assert_eq!(
        q.rpc_args,
        vec![
            ("name".to_owned(), "John".to_owned()),
            ("tags".to_owned(), "{1,2}".to_owned()),
            // PostgREST names an argument after the key's last name.
            ("y".to_owned(), "1".to_owned()),
        ]
    );
    assert_eq!(q.filters.len(), 1);
    // A value that starts like an operator but does not parse is still an error.
    assert!(parse_query("a=in.x", Target::RpcRead).is_err());
    assert!(parse_query("a=not.x", Target::RpcRead).is_err());
    assert_eq!(
        parse_query("a=eq", Target::RpcRead).unwrap().rpc_args.len(),
        1
    );
    // POST /rpc: every key is a filter.
    assert!(parse_query("name=John", Target::RpcWrite).is_err());
}

#[test]
fn hostile_bytes() {
    // NUL passes through values, never into names.
    let q = parse("a=eq.x%00y");
    assert_eq!(q.filters[0], eq("a", "x\0y"));
    assert!(parse_query("select=%22a%00%22", Target::Relation).is_err());
    // Surrogate halves and stray bytes are not UTF-8.
    for query in ["a=eq.%ED%A0%80", "%FF=eq.1", "select=%C3"] {
        assert!(
            matches!(
                parse_query(query, Target::Relation),
                Err(ApiError::ParseQuery { .. })
            ),
            "{query}"
        );
    }
    // Deep parentheses end in an error, not a stack overflow.
    let deep = format!("select={}", "a(".repeat(10_000));
    assert!(matches!(
        parse_query(&deep, Target::Relation),
        Err(ApiError::ParseQuery { .. })
    ));
    let deep = format!("or=({})", "or(".repeat(10_000));
    assert!(matches!(
        parse_query(&deep, Target::Relation),
        Err(ApiError::ParseQuery { .. })
    ));
    assert!(matches!(
        parse_query("limit=-1", Target::Relation),
        Err(ApiError::InvalidRange { .. })
    ));
    assert!(matches!(
        parse_query("limit=99999999999999999999", Target::Relation),
        Err(ApiError::ParseQuery { .. })
    ));
}
