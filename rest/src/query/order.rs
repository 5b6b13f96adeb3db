//! `order=a.desc.nullslast,data->>k,clients(name).asc`: sort terms, each a column (or a
//! column of a to-one embed) with an optional direction and nulls position.
//!
//! PostgREST's `pOrder`: unlike `select`, a term must end at `,` or at the end of input, so
//! `id.descc` is an error and not `id.desc` with something ignored.

use super::ast::{Direction, Field, Nulls, OrderTerm};
use super::field::{delimiter, field, field_name, lexeme};
use super::parsec::{
    Reply, State, alt, attempt, char_, eof, look_ahead, option_maybe, sep_by1, seq, string,
};

/// `pOrder`.
pub(crate) fn order(src: &[char], st: State) -> Reply<Vec<OrderTerm>> {
    sep_by1(lexeme(alt(attempt(relation_term), column_term)), char_(','))(src, st)
}

/// `pOrderTerm`.
fn column_term(src: &[char], st: State) -> Reply<OrderTerm> {
    seq(src, st, |s| {
        let field = s.run(field)?;
        let (direction, nulls) = s.run(modifiers)?;
        Ok(OrderTerm {
            relation: None,
            field,
            direction,
            nulls,
        })
    })
}

/// `pOrderRelationTerm`: `clients(name)`, then the modifiers.
fn relation_term(src: &[char], st: State) -> Reply<OrderTerm> {
    seq(src, st, |s| {
        let relation = s.run(field_name)?;
        s.run(char_('('))?;
        let field: Field = s.run(field)?;
        s.run(char_(')'))?;
        let (direction, nulls) = s.run(modifiers)?;
        Ok(OrderTerm {
            relation: Some(relation),
            field,
            direction,
            nulls,
        })
    })
}

/// `.asc`/`.desc`, then `.nullsfirst`/`.nullslast`, then the end of the term.
fn modifiers(src: &[char], st: State) -> Reply<(Option<Direction>, Option<Nulls>)> {
    let dotted = |word: &'static str| {
        attempt(move |src: &[char], st: State| {
            seq(src, st, |s| {
                s.run(delimiter)?;
                s.run(string(word))
            })
        })
    };
    let direction = alt(
        |src: &[char], st: State| dotted("asc")(src, st).map(|_| Direction::Asc),
        |src: &[char], st: State| dotted("desc")(src, st).map(|_| Direction::Desc),
    );
    let nulls = alt(
        |src: &[char], st: State| dotted("nullsfirst")(src, st).map(|_| Nulls::First),
        |src: &[char], st: State| dotted("nullslast")(src, st).map(|_| Nulls::Last),
    );
    seq(src, st, |s| {
        let direction = s.run(option_maybe(&direction))?;
        let nulls = s.run(alt(
            |src: &[char], st: State| {
                seq(src, st, |s| {
                    let n = s.run(option_maybe(&nulls))?;
                    s.run(term_end)?;
                    Ok(n)
                })
            },
            |src: &[char], st: State| term_end(src, st).map(|()| None),
        ))?;
        Ok((direction, nulls))
    })
}

/// `pEnd`: a `,` ahead or the end of input.
fn term_end(src: &[char], st: State) -> Reply<()> {
    alt(
        attempt(look_ahead(|src: &[char], st: State| {
            char_(',')(src, st).map(|_| ())
        })),
        attempt(eof),
    )(src, st)
}

#[cfg(test)]
mod tests;
