//! The tokens every query parameter shares: names (plain, dashed or double-quoted), JSON paths
//! (`->`, `->>`, keys and integer indexes), a column with its path, the `.` delimiter, and the
//! key paths that reach embedded resources (`clients.projects.id`).
//!
//! Each function is one production of PostgREST's grammar with the same alternatives in the
//! same order, so that errors read as PostgREST's do. One addition: a NUL character never
//! becomes part of a name (it is refused where PostgREST would take it inside quotes or a
//! JSON key), since no identifier can hold one.

use super::ast::{EmbedPath, Field, JsonKey, JsonOp};
use super::parsec::error::haskell_strip;
use super::parsec::{
    Msg, ParseError, Reply, State, alt, attempt, char_, digit, eof, label, letter, look_ahead,
    many, many_chars, many1_chars, none_of, not_followed_by, one_of, option_maybe, pure, satisfy,
    sep_by1, seq, show_char, show_string, string,
};

/// `ws`: spaces and tabs.
pub(crate) fn ws(src: &[char], st: State) -> Reply<String> {
    many_chars(one_of(" \t"))(src, st)
}

/// `lexeme p`: `p` with spaces and tabs around it.
pub(crate) fn lexeme<T>(
    p: impl Fn(&[char], State) -> Reply<T>,
) -> impl Fn(&[char], State) -> Reply<T> {
    move |src: &[char], st: State| {
        seq(src, st, |s| {
            s.run(ws)?;
            let v = s.run(&p)?;
            s.run(ws)?;
            Ok(v)
        })
    }
}

/// `pDelimiter`.
pub(crate) fn delimiter(src: &[char], st: State) -> Reply<char> {
    label(char_('.'), "delimiter (.)")(src, st)
}

/// A double-quoted text, `\` escaping any character (`pQuotedValue`). `allow_nul` is false
/// where the text names something.
fn quoted(allow_nul: bool) -> impl Fn(&[char], State) -> Reply<String> {
    let plain: &'static str = if allow_nul { "\\\"" } else { "\\\"\0" };
    move |src: &[char], st: State| {
        let escaped = move |src: &[char], st: State| {
            seq(src, st, |s| {
                s.run(char_('\\'))?;
                s.run(satisfy(|c| allow_nul || c != '\0'))
            })
        };
        seq(src, st, |s| {
            s.run(char_('"'))?;
            let text = s.run(many_chars(alt(none_of(plain), escaped)))?;
            s.run(char_('"'))?;
            Ok(text)
        })
    }
}

/// A quoted value (`in` items, logic-tree values): any character, NUL included.
pub(crate) fn quoted_value(src: &[char], st: State) -> Reply<String> {
    quoted(true)(src, st)
}

fn quoted_name(src: &[char], st: State) -> Reply<String> {
    quoted(false)(src, st)
}

/// `pIdentifierChar`.
fn identifier_char(src: &[char], st: State) -> Reply<char> {
    alt(alt(letter, digit), one_of("_ $"))(src, st)
}

/// `pIdentifier`: letters, digits, `_`, `$` and spaces, trimmed (casts, fts configurations).
pub(crate) fn identifier(src: &[char], st: State) -> Reply<String> {
    many1_chars(identifier_char)(src, st).map(|s| haskell_strip(&s).to_owned())
}

/// `sepByDash`: `a-b-c` is one name; a `-` followed by `>` is an arrow and ends it.
fn sep_by_dash(
    part: impl Fn(&[char], State) -> Reply<String> + Copy,
) -> impl Fn(&[char], State) -> Reply<String> {
    move |src: &[char], st: State| {
        let dash = attempt(|src: &[char], st: State| {
            seq(src, st, |s| {
                s.run(char_('-'))?;
                s.run(not_followed_by(char_('>'), |c| show_char(*c)))
            })
        });
        sep_by1(part, dash)(src, st).map(|parts| parts.join("-"))
    }
}

/// `pFieldName`: a quoted name or dashed identifiers.
pub(crate) fn field_name(src: &[char], st: State) -> Reply<String> {
    label(
        alt(quoted_name, sep_by_dash(identifier)),
        "field name (* or [a..z0..9_$])",
    )(src, st)
}

/// `pJsonKeyIdentifier`: anything but `(-:.,>)` (and NUL), trimmed.
fn json_key_identifier(src: &[char], st: State) -> Reply<String> {
    many1_chars(none_of("(-:.,>)\0"))(src, st).map(|s| haskell_strip(&s).to_owned())
}

/// `pJsonKeyName`.
fn json_key_name(src: &[char], st: State) -> Reply<String> {
    label(
        alt(quoted_name, sep_by_dash(json_key_identifier)),
        "any non reserved character different from: .,>()",
    )(src, st)
}

/// What may follow an array index: `->`, `::`, `.`, `,` or the end (not `)`: inside an embed
/// `data->0)` reads `0` as a key, as PostgREST does).
fn index_end(src: &[char], st: State) -> Reply<()> {
    let ahead = |s: &'static str| {
        attempt(look_ahead(move |src: &[char], st: State| {
            string(s)(src, st).map(|_| ())
        }))
    };
    alt(
        alt(alt(alt(ahead("->"), ahead("::")), ahead(".")), ahead(",")),
        attempt(eof),
    )(src, st)
}

/// `pJIdx`: `-1`, `0`, `12`, then one of [`index_end`]. An index past 64 bits is fatal rather
/// than silently becoming an object key.
fn json_index(src: &[char], st: State) -> Reply<i64> {
    seq(src, st, |s| {
        let start = s.state();
        let sign = s.run(option_maybe(char_('-')))?;
        let digits = s.run(many1_chars(digit))?;
        s.run(index_end)?;
        let text = format!("{}{digits}", if sign.is_some() { "-" } else { "" });
        match text.parse::<i64>() {
            Ok(n) => Ok(n),
            Err(_) => Err(super::parsec::Stop::Fatal(ParseError {
                pos: start.pos,
                msgs: vec![
                    Msg::SysUnexpect(show_string(&text)),
                    Msg::Expect(format!(
                        "an array index between {} and {}",
                        i64::MIN,
                        i64::MAX
                    )),
                ],
            })),
        }
    })
}

/// `pJsonOperand`: an index if it reads as one, else a key.
fn json_operand(src: &[char], st: State) -> Reply<JsonKey> {
    alt(
        attempt(|src: &[char], st: State| json_index(src, st).map(JsonKey::Index)),
        attempt(|src: &[char], st: State| json_key_name(src, st).map(JsonKey::Key)),
    )(src, st)
}

/// `pJsonArrow <*> pJsonOperand`.
fn json_operation(src: &[char], st: State) -> Reply<JsonOp> {
    seq(src, st, |s| {
        let double = s.run(alt(
            attempt(|src: &[char], st: State| string("->>")(src, st).map(|_| true)),
            attempt(|src: &[char], st: State| string("->")(src, st).map(|_| false)),
        ))?;
        let key = s.run(json_operand)?;
        Ok(if double {
            JsonOp::DoubleArrow(key)
        } else {
            JsonOp::Arrow(key)
        })
    })
}

/// `pJsonPath`: zero or more steps.
pub(crate) fn json_path(src: &[char], st: State) -> Reply<Vec<JsonOp>> {
    many(json_operation)(src, st)
}

/// `pField`: a name and its JSON path, spaces around.
pub(crate) fn field(src: &[char], st: State) -> Reply<Field> {
    lexeme(|src: &[char], st: State| {
        seq(src, st, |s| {
            let name = s.run(field_name)?;
            let json_path = s.run(alt(json_path, pure(Vec::new())))?;
            Ok(Field { name, json_path })
        })
    })(src, st)
}

/// `pTreePath`: `a.b.c->k` is the embed path `[a, b]` and the field `c->k`. Like PostgREST it
/// stops at the first character that does not fit, and ignores the rest of the key.
pub(crate) fn tree_path(src: &[char], st: State) -> Reply<(EmbedPath, Field)> {
    seq(src, st, |s| {
        let mut names = s.run(sep_by1(field_name, delimiter))?;
        let json_path = s.run(alt(json_path, pure(Vec::new())))?;
        let name = names.pop().unwrap_or_default();
        Ok((names, Field { name, json_path }))
    })
}

/// `aliasSeparator`: one `:`, not `::`.
pub(crate) fn alias_separator(src: &[char], st: State) -> Reply<()> {
    seq(src, st, |s| {
        s.run(char_(':'))?;
        s.run(not_followed_by(char_(':'), |c| show_char(*c)))
    })
}

/// `pColumns`: `a, "b c",d` (`columns` and `on_conflict`).
pub(crate) fn columns(src: &[char], st: State) -> Reply<Vec<String>> {
    sep_by1(field_name, lexeme(char_(',')))(src, st)
}

#[cfg(test)]
mod tests;
