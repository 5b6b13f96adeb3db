//! `or=(a.lt.18,and(b.eq.1,c.eq.2))`, `not.and=(...)`, `children.or=(...)`: boolean trees of
//! conditions.
//!
//! PostgREST parses the key (`pLogicPath`: the embed path, and `not` anywhere in it negating)
//! and then the operator glued to the value, `or` + `(a.lt.18)`, with `pLogicTree`; the
//! columns of its errors count from that glued text, while the message shows the value only.
//! Inside a tree a value ends at `,` or `)` unless it is double-quoted or a `{...}` array.

use super::ast::{EmbedPath, LogicOp, LogicTree};
use super::field::{delimiter, field, field_name, lexeme};
use super::filter::{op_expr, quoted_then_separator};
use super::parsec::{
    MAX_DEPTH, Reply, State, alt, attempt, char_, label, many_chars, none_of, sep_by1, seq, string,
    too_deep,
};

/// `pLogicPath`: the embed path and the operator text (`or`, `not.and`).
pub(crate) fn logic_path(src: &[char], st: State) -> Reply<(EmbedPath, String)> {
    sep_by1(field_name, delimiter)(src, st).map(|mut names| {
        let op = names.pop().unwrap_or_default();
        let negated = op == "not" || names.iter().any(|n| n == "not");
        names.retain(|n| n != "not");
        (names, if negated { format!("not.{op}") } else { op })
    })
}

/// `pLogicTree` at nesting `depth`.
pub(crate) fn logic_tree(src: &[char], st: State, depth: usize) -> Reply<LogicTree> {
    let condition = attempt(|src: &[char], st: State| {
        seq(src, st, |s| {
            let field = s.run(field)?;
            s.run(delimiter)?;
            let condition = s.run(op_expr(logic_value))?;
            Ok(LogicTree::Condition { field, condition })
        })
    });
    let expr = move |src: &[char], st: State| {
        seq(src, st, |s| {
            let negated = s.run(label(
                alt(
                    attempt(|src: &[char], st: State| {
                        seq(src, st, |s| {
                            s.run(string("not"))?;
                            s.run(delimiter)?;
                            Ok(true)
                        })
                    }),
                    super::parsec::pure(false),
                ),
                "negation operator (not)",
            ))?;
            let op = s.run(label(
                alt(
                    attempt(|src: &[char], st: State| string("and")(src, st).map(|_| LogicOp::And)),
                    |src: &[char], st: State| string("or")(src, st).map(|_| LogicOp::Or),
                ),
                "logic operator (and, or)",
            ))?;
            let open = s.state();
            s.run(lexeme(char_('(')))?;
            if depth >= MAX_DEPTH {
                return s.run(move |_: &[char], _: State| too_deep(open, "logic trees"));
            }
            let children = s.run(sep_by1(
                move |src: &[char], st: State| logic_tree(src, st, depth + 1),
                lexeme(char_(',')),
            ))?;
            s.run(lexeme(char_(')')))?;
            Ok(LogicTree::Expr {
                negated,
                op,
                children,
            })
        })
    };
    alt(condition, expr)(src, st)
}

/// `pLogicSingleVal`: a closed quoted value, a `{...}` array (kept with its braces), or
/// everything up to `,` or `)`.
fn logic_value(src: &[char], st: State) -> Reply<String> {
    let pg_array = |src: &[char], st: State| {
        seq(src, st, |s| {
            s.run(string("{"))?;
            let inner = s.run(many_chars(none_of("{}")))?;
            s.run(string("}"))?;
            Ok(format!("{{{inner}}}"))
        })
    };
    alt(
        alt(attempt(quoted_then_separator), attempt(pg_array)),
        many_chars(none_of(",)")),
    )(src, st)
}

#[cfg(test)]
mod tests;
