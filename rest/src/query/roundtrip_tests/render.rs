//! AST → query string, as a client would write each production.

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use crate::query::ast::*;

fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

fn render_field(f: &Field) -> String {
    let mut out = quoted(&f.name);
    for step in &f.json_path {
        let (arrow, key) = match step {
            JsonOp::Arrow(k) => ("->", k),
            JsonOp::DoubleArrow(k) => ("->>", k),
        };
        out.push_str(arrow);
        match key {
            JsonKey::Key(k) => out.push_str(&quoted(k)),
            JsonKey::Index(i) => out.push_str(&i.to_string()),
        }
    }
    out
}

fn op_name(op: CompareOp) -> &'static str {
    use CompareOp::*;
    match op {
        Eq => "eq",
        Neq => "neq",
        Gt => "gt",
        Gte => "gte",
        Lt => "lt",
        Lte => "lte",
        Like => "like",
        Ilike => "ilike",
        Match => "match",
        Imatch => "imatch",
        IsDistinct => "isdistinct",
        Cs => "cs",
        Cd => "cd",
        Ov => "ov",
        Sl => "sl",
        Sr => "sr",
        Nxr => "nxr",
        Nxl => "nxl",
        Adj => "adj",
    }
}

/// A condition; in a tree, free text is quoted (it would end at `,` or `)`).
fn render_condition(c: &Condition, in_tree: bool) -> String {
    let text = |v: &str| if in_tree { quoted(v) } else { v.to_owned() };
    let list = |items: &[String]| {
        items
            .iter()
            .map(|i| quoted(i))
            .collect::<Vec<_>>()
            .join(",")
    };
    let body = match &c.operation {
        Operation::Compare { op, value } => format!("{}.{}", op_name(*op), text(value)),
        Operation::Quantified {
            op,
            quantifier,
            values,
        } => format!(
            "{}({}).{{{}}}",
            op_name(*op),
            if *quantifier == Quantifier::Any {
                "any"
            } else {
                "all"
            },
            list(values)
        ),
        Operation::In(items) => format!("in.({})", list(items)),
        Operation::Is(v) => format!(
            "is.{}",
            match v {
                IsValue::Null => "null",
                IsValue::NotNull => "not_null",
                IsValue::True => "true",
                IsValue::False => "false",
                IsValue::Unknown => "unknown",
            }
        ),
        Operation::Fts { op, config, value } => format!(
            "{}{}.{}",
            match op {
                FtsOp::Fts => "fts",
                FtsOp::Plain => "plfts",
                FtsOp::Phrase => "phfts",
                FtsOp::Websearch => "wfts",
            },
            config
                .as_ref()
                .map(|c| format!("({c})"))
                .unwrap_or_default(),
            text(value)
        ),
    };
    if c.negated {
        format!("not.{body}")
    } else {
        body
    }
}

fn render_items(items: &[SelectItem]) -> String {
    let alias = |a: &Option<String>| {
        a.as_ref()
            .map(|a| format!("{}:", quoted(a)))
            .unwrap_or_default()
    };
    let cast = |c: &Option<String>| c.as_ref().map(|c| format!("::{c}")).unwrap_or_default();
    items
        .iter()
        .map(|item| match item {
            SelectItem::Star => "*".to_owned(),
            SelectItem::Column {
                field,
                alias: a,
                cast: c,
            } => {
                format!("{}{}{}", alias(a), render_field(field), cast(c))
            }
            SelectItem::Aggregate {
                function,
                field,
                cast: c,
                aggregate_cast,
                alias: a,
            } => {
                let f = match function {
                    AggregateFunction::Sum => "sum",
                    AggregateFunction::Avg => "avg",
                    AggregateFunction::Count => "count",
                    AggregateFunction::Max => "max",
                    AggregateFunction::Min => "min",
                };
                match field {
                    Some(field) => format!(
                        "{}{}{}.{f}(){}",
                        alias(a),
                        render_field(field),
                        cast(c),
                        cast(aggregate_cast)
                    ),
                    None => format!("{}count(){}", alias(a), cast(aggregate_cast)),
                }
            }
            SelectItem::Embed(e) => format!(
                "{}{}{}{}{}({})",
                if e.spread { "..." } else { "" },
                alias(&e.alias),
                quoted(&e.relation),
                e.hint
                    .as_ref()
                    .map(|h| format!("!{}", quoted(h)))
                    .unwrap_or_default(),
                match e.join {
                    Some(JoinType::Inner) => "!inner",
                    Some(JoinType::Left) => "!left",
                    None => "",
                },
                render_items(&e.select)
            ),
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn render_tree(t: &LogicTree) -> String {
    match t {
        LogicTree::Condition { field, condition } => {
            format!(
                "{}.{}",
                render_field(field),
                render_condition(condition, true)
            )
        }
        LogicTree::Expr {
            negated,
            op,
            children,
        } => format!(
            "{}{}({})",
            if *negated { "not." } else { "" },
            if *op == LogicOp::And { "and" } else { "or" },
            children
                .iter()
                .map(render_tree)
                .collect::<Vec<_>>()
                .join(",")
        ),
    }
}

fn prefixed(path: &EmbedPath, last: &str) -> String {
    path.iter().map(|p| quoted(p) + ".").collect::<String>() + last
}

/// The query string, every key and value percent-encoded.
pub(super) fn query(q: &QueryParams) -> String {
    let mut pairs: Vec<(String, String)> = Vec::new();
    if q.select != [SelectItem::Star] {
        pairs.push(("select".into(), render_items(&q.select)));
    }
    for f in &q.filters {
        let key = prefixed(&f.path, &render_field(&f.field));
        pairs.push((key, render_condition(&f.condition, false)));
    }
    for l in &q.logic {
        if let LogicTree::Expr {
            negated,
            op,
            children,
        } = &l.tree
        {
            let op = if *op == LogicOp::And { "and" } else { "or" };
            let key = prefixed(
                &l.path,
                &if *negated {
                    format!("not.{op}")
                } else {
                    op.to_owned()
                },
            );
            let value = format!(
                "({})",
                children
                    .iter()
                    .map(render_tree)
                    .collect::<Vec<_>>()
                    .join(",")
            );
            pairs.push((key, value));
        }
    }
    for o in &q.order {
        let terms = o.terms.iter().map(|t| {
            let mut out = match &t.relation {
                Some(r) => format!("{}({})", quoted(r), render_field(&t.field)),
                None => render_field(&t.field),
            };
            out.push_str(match t.direction {
                Some(Direction::Asc) => ".asc",
                Some(Direction::Desc) => ".desc",
                None => "",
            });
            out.push_str(match t.nulls {
                Some(Nulls::First) => ".nullsfirst",
                Some(Nulls::Last) => ".nullslast",
                None => "",
            });
            out
        });
        pairs.push((
            prefixed(&o.path, "order"),
            terms.collect::<Vec<_>>().join(","),
        ));
    }
    for r in &q.ranges {
        if let Some(l) = r.limit {
            pairs.push((prefixed(&r.path, "limit"), l.to_string()));
        }
        if let Some(o) = r.offset {
            pairs.push((prefixed(&r.path, "offset"), o.to_string()));
        }
    }
    let names = |n: &[String]| n.iter().map(|c| quoted(c)).collect::<Vec<_>>().join(",");
    if let Some(c) = &q.columns {
        pairs.push(("columns".into(), names(c)));
    }
    if let Some(c) = &q.on_conflict {
        pairs.push(("on_conflict".into(), names(c)));
    }
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, NON_ALPHANUMERIC),
                utf8_percent_encode(v, NON_ALPHANUMERIC)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}
