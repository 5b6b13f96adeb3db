//! `select=`: columns, `*`, aliases, casts, JSON paths, aggregates and embedded resources
//! (`rel(...)`, `alias:rel!hint!inner(...)`, `...rel(...)`), nested.
//!
//! PostgREST's `pFieldForest` alternative by alternative: a spread is tried first, then an
//! embed, then a plain field, so `clients(id)` is an embed and `clients` a column. Like
//! PostgREST it stops after the last item it can read (`select=id)` is `[id]`).

use super::ast::{AggregateFunction, Embed, Field, JoinType, SelectItem};
use super::field::{alias_separator, field, field_name, identifier, lexeme};
use super::parsec::{
    MAX_DEPTH, Reply, State, alt, attempt, char_, eof, look_ahead, option_maybe, pure, seq, string,
    too_deep,
};

/// `pFieldForest`: comma-separated items, possibly none (`select=` and `rel()`).
pub(crate) fn field_forest(depth: usize) -> impl Fn(&[char], State) -> Reply<Vec<SelectItem>> {
    move |src: &[char], st: State| {
        alt(
            super::parsec::sep_by1(
                move |src: &[char], st: State| field_tree(src, st, depth),
                lexeme(char_(',')),
            ),
            pure(Vec::new()),
        )(src, st)
    }
}

/// `between (char '(') (char ')') pFieldForest`, one level deeper.
fn children(src: &[char], st: State, depth: usize) -> Reply<Vec<SelectItem>> {
    if depth >= MAX_DEPTH {
        return too_deep(st, "embedded resources");
    }
    seq(src, st, |s| {
        s.run(char_('('))?;
        let items = s.run(field_forest(depth + 1))?;
        s.run(char_(')'))?;
        Ok(items)
    })
}

/// `pFieldTree`.
fn field_tree(src: &[char], st: State, depth: usize) -> Reply<SelectItem> {
    let embedded = |header: fn(&[char], State) -> Reply<Embed>| {
        move |src: &[char], st: State| {
            seq(src, st, |s| {
                let mut embed = s.run(attempt(header))?;
                embed.select = s.run(|src: &[char], st: State| children(src, st, depth))?;
                Ok(SelectItem::Embed(embed))
            })
        }
    };
    alt(
        alt(embedded(spread_select), embedded(relation_select)),
        field_select,
    )(src, st)
}

/// `pEmbedParams`: up to two of `!left`, `!inner`, `!hint`; the first hint and the first join
/// type win.
fn embed_params(src: &[char], st: State) -> Reply<(Option<String>, Option<JoinType>)> {
    enum Param {
        Join(JoinType),
        Hint(String),
    }
    let param = |src: &[char], st: State| {
        seq(src, st, |s| {
            s.run(char_('!'))?;
            s.run(alt(
                alt(
                    attempt(|src: &[char], st: State| {
                        string("left")(src, st).map(|_| Param::Join(JoinType::Left))
                    }),
                    attempt(|src: &[char], st: State| {
                        string("inner")(src, st).map(|_| Param::Join(JoinType::Inner))
                    }),
                ),
                attempt(|src: &[char], st: State| field_name(src, st).map(Param::Hint)),
            ))
        })
    };
    seq(src, st, |s| {
        let first = s.run(option_maybe_by(&param))?;
        let second = s.run(option_maybe_by(&param))?;
        let (mut hint, mut join) = (None, None);
        for p in [first, second].into_iter().flatten() {
            match p {
                Param::Hint(h) => {
                    hint.get_or_insert(h);
                }
                Param::Join(j) => {
                    join.get_or_insert(j);
                }
            }
        }
        Ok((hint, join))
    })
}

/// `optionMaybe` for values that are not `Clone`.
fn option_maybe_by<T>(
    p: impl Fn(&[char], State) -> Reply<T>,
) -> impl Fn(&[char], State) -> Reply<Option<T>> {
    move |src: &[char], st: State| match p(src, st) {
        Reply::Err {
            error,
            consumed: false,
        } => Reply::Ok {
            value: None,
            state: st,
            consumed: false,
            error,
        },
        other => other.map(Some),
    }
}

/// `try (lookAhead (string "("))`.
fn before_paren(src: &[char], st: State) -> Reply<()> {
    attempt(look_ahead(|src: &[char], st: State| {
        string("(")(src, st).map(|_| ())
    }))(src, st)
}

/// `pSpreadRelationSelect`: `...rel!hint!inner` before its `(`.
fn spread_select(src: &[char], st: State) -> Reply<Embed> {
    lexeme(|src: &[char], st: State| {
        seq(src, st, |s| {
            s.run(string("..."))?;
            let relation = s.run(field_name)?;
            let (hint, join) = s.run(embed_params)?;
            s.run(before_paren)?;
            Ok(Embed {
                relation,
                alias: None,
                hint,
                join,
                spread: true,
                select: Vec::new(),
            })
        })
    })(src, st)
}

/// `pRelationSelect`: `alias:rel!hint!inner` before its `(`; `count(` is never an embed.
fn relation_select(src: &[char], st: State) -> Reply<Embed> {
    lexeme(|src: &[char], st: State| {
        seq(src, st, |s| {
            let alias = s.run(option_maybe(attempt(alias)))?;
            let relation = s.run(field_name)?;
            if relation == "count" {
                return s.fail(Vec::new()); // `guard`: an unknown error
            }
            let (hint, join) = s.run(embed_params)?;
            s.run(before_paren)?;
            Ok(Embed {
                relation,
                alias,
                hint,
                join,
                spread: false,
                select: Vec::new(),
            })
        })
    })(src, st)
}

/// `pFieldName <* aliasSeparator`.
fn alias(src: &[char], st: State) -> Reply<String> {
    seq(src, st, |s| {
        let name = s.run(field_name)?;
        s.run(alias_separator)?;
        Ok(name)
    })
}

/// What ends an item: `)`, `,` or the end of input, not consumed.
fn item_end(src: &[char], st: State) -> Reply<()> {
    let ahead = |c: &'static str| {
        attempt(look_ahead(move |src: &[char], st: State| {
            string(c)(src, st).map(|_| ())
        }))
    };
    alt(alt(ahead(")"), ahead(",")), attempt(eof))(src, st)
}

fn cast(src: &[char], st: State) -> Reply<Option<String>> {
    option_maybe(|src: &[char], st: State| {
        seq(src, st, |s| {
            s.run(string("::"))?;
            s.run(identifier)
        })
    })(src, st)
}

/// `sum`, `avg`, `count`, `max`, `min` after a `.` and before `()`.
fn aggregation(src: &[char], st: State) -> Reply<AggregateFunction> {
    let name = |text: &'static str, f: AggregateFunction| {
        move |src: &[char], st: State| string(text)(src, st).map(|_| f)
    };
    alt(
        alt(
            alt(
                name("sum", AggregateFunction::Sum),
                name("avg", AggregateFunction::Avg),
            ),
            name("count", AggregateFunction::Count),
        ),
        alt(
            attempt(name("max", AggregateFunction::Max)),
            attempt(name("min", AggregateFunction::Min)),
        ),
    )(src, st)
}

/// `pFieldSelect`: `*`, `count()`, or a field with its alias, cast and aggregate.
fn field_select(src: &[char], st: State) -> Reply<SelectItem> {
    let star = attempt(|src: &[char], st: State| {
        seq(src, st, |s| {
            s.run(string("*"))?;
            s.run(item_end)?;
            Ok(SelectItem::Star)
        })
    });
    let count = attempt(|src: &[char], st: State| {
        seq(src, st, |s| {
            let alias = s.run(option_maybe(attempt(alias)))?;
            s.run(string("count()"))?;
            let aggregate_cast = s.run(cast)?;
            s.run(item_end)?;
            Ok(SelectItem::Aggregate {
                function: AggregateFunction::Count,
                field: None,
                cast: None,
                aggregate_cast,
                alias,
            })
        })
    });
    let column = |src: &[char], st: State| {
        seq(src, st, |s| {
            let alias = s.run(option_maybe(attempt(alias)))?;
            let field = s.run(field)?;
            let column_cast = s.run(cast)?;
            let function = s.run(option_maybe(attempt(|src: &[char], st: State| {
                seq(src, st, |s| {
                    s.run(char_('.'))?;
                    let f = s.run(aggregation)?;
                    s.run(string("()"))?;
                    Ok(f)
                })
            })))?;
            let aggregate_cast = s.run(cast)?;
            s.run(item_end)?;
            Ok(column_item(
                field,
                alias,
                column_cast,
                function,
                aggregate_cast,
            ))
        })
    };
    lexeme(alt(alt(star, count), column))(src, st)
}

/// A field as PostgREST's planner sees it: a quoted `"*"` is the star, and a second cast
/// without an aggregate is ignored.
fn column_item(
    field: Field,
    alias: Option<String>,
    cast: Option<String>,
    function: Option<AggregateFunction>,
    aggregate_cast: Option<String>,
) -> SelectItem {
    match function {
        Some(function) => SelectItem::Aggregate {
            function,
            field: Some(field),
            cast,
            aggregate_cast,
            alias,
        },
        None if field.name == "*" && field.json_path.is_empty() => SelectItem::Star,
        None => SelectItem::Column { field, alias, cast },
    }
}

#[cfg(test)]
mod tests;
