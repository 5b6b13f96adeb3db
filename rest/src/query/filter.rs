//! A filter's value: `[not.]operator[(modifier)].value` (`eq.5`, `not.in.(a,"b,c")`,
//! `is.not_null`, `plfts(english).fat cats`, `like(any).{a*,*b}`).
//!
//! PostgREST's `pOpExpr` with its alternatives in its order (`in`, `is`, `isdistinct`, the
//! full-text operators, the single-value ones, the quantifiable ones), which decides both what
//! `isdistinct.x` or `ilike.x` mean and which error a typo gets. Two things PostgREST leaves to
//! PostgreSQL happen here, since the AST holds them parsed: `*` becomes `%` for `like`/`ilike`,
//! and the `{a,b}` of `(any)`/`(all)` is split into items ([`super::pg_array`]).

use super::ast::{CompareOp, Condition, FtsOp, IsValue, Operation, Quantifier};
use super::field::{delimiter, identifier, lexeme, quoted_value};
use super::parsec::{
    ParseError, Reply, State, alt, any_char, attempt, char_, label, many_chars, none_of,
    not_followed_by, option_maybe, sep_by1, seq, show_char, string,
};
use super::pg_array;

/// How a value ends: at the end of input (a filter's value), or at `,`/`)` (inside a logic
/// tree).
pub(crate) type ValueParser = fn(&[char], State) -> Reply<String>;

/// `pSingleVal`: the rest of the input, whatever it holds.
pub(crate) fn single_value(src: &[char], st: State) -> Reply<String> {
    many_chars(any_char)(src, st)
}

/// `pOpExpr`.
pub(crate) fn op_expr(value: ValueParser) -> impl Fn(&[char], State) -> Reply<Condition> {
    move |src: &[char], st: State| {
        seq(src, st, |s| {
            let negated = s.run(alt(
                attempt(|src: &[char], st: State| {
                    seq(src, st, |s| {
                        s.run(string("not"))?;
                        s.run(delimiter)?;
                        Ok(true)
                    })
                }),
                super::parsec::pure(false),
            ))?;
            let operation = s.run(operation(value))?;
            Ok(Condition { negated, operation })
        })
    }
}

/// `keyword.` as one `try`: `in.`, `is.`, `isdistinct.`.
fn keyword_dot(word: &'static str) -> impl Fn(&[char], State) -> Reply<()> {
    attempt(move |src: &[char], st: State| {
        seq(src, st, |s| {
            s.run(string(word))?;
            s.run(delimiter)?;
            Ok(())
        })
    })
}

/// `pOperation`.
fn operation(value: ValueParser) -> impl Fn(&[char], State) -> Reply<Operation> {
    move |src: &[char], st: State| {
        let in_ = |src: &[char], st: State| {
            seq(src, st, |s| {
                s.run(keyword_dot("in"))?;
                let items = s.run(list_value)?;
                // PostgREST's `in.()` (and `in.("")`): the empty list.
                Ok(Operation::In(if items == [""] {
                    Vec::new()
                } else {
                    items
                }))
            })
        };
        let is = |src: &[char], st: State| {
            seq(src, st, |s| {
                s.run(keyword_dot("is"))?;
                s.run(is_value).map(Operation::Is)
            })
        };
        let is_distinct = move |src: &[char], st: State| {
            seq(src, st, |s| {
                s.run(keyword_dot("isdistinct"))?;
                let value = s.run(value)?;
                Ok(Operation::Compare {
                    op: CompareOp::IsDistinct,
                    value,
                })
            })
        };
        label(
            alt(
                alt(
                    alt(alt(alt(in_, is), is_distinct), attempt(fts(value))),
                    attempt(simple_op(value)),
                ),
                attempt(quant_op(value)),
            ),
            "operator (eq, gt, ...)",
        )(src, st)
    }
}

/// The first of `table` whose word matches, as `try (string w1) <|> try (string w2) ...`.
fn keyword<T: Copy>(table: &'static [(&'static str, T)]) -> impl Fn(&[char], State) -> Reply<T> {
    move |src: &[char], st: State| {
        let mut error = ParseError::unknown(st.pos);
        for &(word, value) in table {
            match attempt(string(word))(src, st) {
                // A word consumes, so the errors of the words before it are dropped.
                ok @ Reply::Ok { .. } => return ok.map(|_| value),
                Reply::Err { error: e, .. } => error = error.merge(e),
                Reply::Fatal(e) => return Reply::Fatal(e),
            }
        }
        Reply::Err {
            error,
            consumed: false,
        }
    }
}

const SIMPLE_OPERATORS: &[(&str, CompareOp)] = &[
    ("neq", CompareOp::Neq),
    ("cs", CompareOp::Cs),
    ("cd", CompareOp::Cd),
    ("ov", CompareOp::Ov),
    ("sl", CompareOp::Sl),
    ("sr", CompareOp::Sr),
    ("nxr", CompareOp::Nxr),
    ("nxl", CompareOp::Nxl),
    ("adj", CompareOp::Adj),
];

/// In PostgREST's order: `gte` before `gt`, `lte` before `lt`.
const QUANT_OPERATORS: &[(&str, CompareOp)] = &[
    ("eq", CompareOp::Eq),
    ("gte", CompareOp::Gte),
    ("gt", CompareOp::Gt),
    ("lte", CompareOp::Lte),
    ("lt", CompareOp::Lt),
    ("like", CompareOp::Like),
    ("ilike", CompareOp::Ilike),
    ("match", CompareOp::Match),
    ("imatch", CompareOp::Imatch),
];

const FTS_OPERATORS: &[(&str, FtsOp)] = &[
    ("fts", FtsOp::Fts),
    ("plfts", FtsOp::Plain),
    ("phfts", FtsOp::Phrase),
    ("wfts", FtsOp::Websearch),
];

/// `pSimpleOp`: `neq.v`, `cs.{1,2}`, ...: the value as written.
fn simple_op(value: ValueParser) -> impl Fn(&[char], State) -> Reply<Operation> {
    move |src: &[char], st: State| {
        seq(src, st, |s| {
            let op = s.run(label(
                keyword(SIMPLE_OPERATORS),
                "unknown single value operator",
            ))?;
            s.run(delimiter)?;
            let value = s.run(value)?;
            Ok(Operation::Compare { op, value })
        })
    }
}

/// `pQuantOp`: `eq.v`, `like.a*`, `gt(any).{1,5}`.
fn quant_op(value: ValueParser) -> impl Fn(&[char], State) -> Reply<Operation> {
    move |src: &[char], st: State| {
        seq(src, st, |s| {
            let op = s.run(label(
                keyword(QUANT_OPERATORS),
                "unknown single value operator",
            ))?;
            let quantifier = s.run(option_maybe(attempt(|src: &[char], st: State| {
                seq(src, st, |s| {
                    s.run(char_('('))?;
                    let q = s.run(alt(
                        attempt(|src: &[char], st: State| {
                            string("any")(src, st).map(|_| Quantifier::Any)
                        }),
                        |src: &[char], st: State| string("all")(src, st).map(|_| Quantifier::All),
                    ))?;
                    s.run(char_(')'))?;
                    Ok(q)
                })
            })))?;
            s.run(delimiter)?;
            let start = s.state();
            let value = s.run(value)?;
            let starred = |v: String| {
                if matches!(op, CompareOp::Like | CompareOp::Ilike) {
                    v.replace('*', "%")
                } else {
                    v
                }
            };
            match quantifier {
                None => Ok(Operation::Compare {
                    op,
                    value: starred(value),
                }),
                Some(quantifier) => {
                    let chars: Vec<char> = value.chars().collect();
                    // Parsed on its own text. The operator is already read, so a failure
                    // is fatal: no `try` may turn it into "expecting operator".
                    let items = s.run(move |_: &[char], here: State| {
                        match pg_array::items(&chars, start.pos) {
                            Ok(value) => Reply::Ok {
                                value,
                                state: here,
                                consumed: false,
                                error: ParseError::unknown(here.pos),
                            },
                            Err(error) => Reply::Fatal(error),
                        }
                    })?;
                    Ok(Operation::Quantified {
                        op,
                        quantifier,
                        values: items.into_iter().map(starred).collect(),
                    })
                }
            }
        })
    }
}

/// `pFts`: `fts.v`, `wfts(english).v`.
fn fts(value: ValueParser) -> impl Fn(&[char], State) -> Reply<Operation> {
    move |src: &[char], st: State| {
        seq(src, st, |s| {
            let op = s.run(keyword(FTS_OPERATORS))?;
            let config = s.run(option_maybe(attempt(|src: &[char], st: State| {
                seq(src, st, |s| {
                    s.run(char_('('))?;
                    let config = s.run(identifier)?;
                    s.run(char_(')'))?;
                    Ok(config)
                })
            })))?;
            s.run(delimiter)?;
            let value = s.run(value)?;
            Ok(Operation::Fts { op, config, value })
        })
    }
}

/// `pIsVal`: case-insensitive, as PostgREST's `ciString` (each letter as written or upper).
fn is_value(src: &[char], st: State) -> Reply<IsValue> {
    let ci = |word: &'static str, v: IsValue| {
        attempt(move |src: &[char], st: State| {
            seq(src, st, |s| {
                for c in word.chars() {
                    s.run(alt(char_(c), char_(c.to_ascii_uppercase())))?;
                }
                Ok(v)
            })
        })
    };
    label(
        alt(
            alt(
                alt(
                    alt(ci("null", IsValue::Null), ci("not_null", IsValue::NotNull)),
                    ci("true", IsValue::True),
                ),
                ci("false", IsValue::False),
            ),
            ci("unknown", IsValue::Unknown),
        ),
        "isVal: (null, not_null, true, false, unknown)",
    )(src, st)
}

/// `pListVal`: `(a, "b,c" ,d)`.
fn list_value(src: &[char], st: State) -> Reply<Vec<String>> {
    seq(src, st, |s| {
        s.run(lexeme(char_('(')))?;
        let items = s.run(sep_by1(list_element, char_(',')))?;
        s.run(lexeme(char_(')')))?;
        Ok(items)
    })
}

/// `pListElement`: a quoted item if the quotes close it, else everything up to `,` or `)`.
fn list_element(src: &[char], st: State) -> Reply<String> {
    alt(attempt(quoted_then_separator), many_chars(none_of(",)")))(src, st)
}

/// `pQuotedValue <* notFollowedBy (noneOf ",)")`.
pub(crate) fn quoted_then_separator(src: &[char], st: State) -> Reply<String> {
    seq(src, st, |s| {
        let v = s.run(quoted_value)?;
        s.run(not_followed_by(none_of(",)"), |c| show_char(*c)))?;
        Ok(v)
    })
}

#[cfg(test)]
mod tests;
