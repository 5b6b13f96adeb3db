//! The `{a,"b,c"}` of `eq(any).{a,b}`, split into items by PostgreSQL's rules for a
//! one-dimensional array literal (`array_in`): items separated by `,`, double quotes around an
//! item that holds `,{}"` or spaces, `\` escaping one character, spaces around unquoted items
//! dropped.
//!
//! PostgREST sends the literal as it is and lets PostgreSQL split it; the AST holds items, so
//! they are split here, and what this cannot represent is a PGRST100 instead of PostgreSQL's
//! 22P02 `malformed array literal`: a null item (unquoted `NULL`), nested arrays, and
//! dimension prefixes (`[1:2]={…}`).

use super::parsec::{
    Msg, ParseError, Pos, Reply, State, alt, attempt, char_, eof, label, many, many_chars, one_of,
    satisfy, sep_by1, seq,
};

/// PostgreSQL's `array_isspace`.
const SPACES: &str = " \t\n\r\u{0B}\u{0C}";

/// The items of `value`, which starts at `pos` in the parameter (for the error's column).
pub(crate) fn items(value: &[char], pos: Pos) -> Result<Vec<String>, ParseError> {
    let start = State { index: 0, pos };
    match array(value, start) {
        Reply::Ok { value, .. } => Ok(value),
        Reply::Err { error, .. } | Reply::Fatal(error) => Err(error),
    }
}

fn spaces(src: &[char], st: State) -> Reply<String> {
    many_chars(one_of(SPACES))(src, st)
}

fn array(src: &[char], st: State) -> Reply<Vec<String>> {
    seq(src, st, |s| {
        s.run(spaces)?;
        s.run(char_('{'))?;
        s.run(spaces)?;
        let items = s.run(alt(
            |src: &[char], st: State| char_('}')(src, st).map(|_| Vec::new()),
            |src: &[char], st: State| {
                seq(src, st, |s| {
                    let items = s.run(sep_by1(spaced_item, char_(',')))?;
                    s.run(char_('}'))?;
                    Ok(items)
                })
            },
        ))?;
        s.run(spaces)?;
        s.run(eof)?;
        Ok(items)
    })
}

fn spaced_item(src: &[char], st: State) -> Reply<String> {
    seq(src, st, |s| {
        s.run(spaces)?;
        let item = s.run(label(alt(quoted, unquoted), "an array item"))?;
        s.run(spaces)?;
        Ok(item)
    })
}

/// `\x`: `x`, whatever it is.
fn escaped(src: &[char], st: State) -> Reply<char> {
    seq(src, st, |s| {
        s.run(char_('\\'))?;
        s.run(satisfy(|_| true))
    })
}

fn quoted(src: &[char], st: State) -> Reply<String> {
    seq(src, st, |s| {
        s.run(char_('"'))?;
        let text = s.run(many_chars(alt(satisfy(|c| c != '"' && c != '\\'), escaped)))?;
        s.run(char_('"'))?;
        Ok(text)
    })
}

/// An unquoted item: trailing unescaped spaces dropped; a bare `NULL` refused.
fn unquoted(src: &[char], st: State) -> Reply<String> {
    seq(src, st, |s| {
        let start = s.state();
        let first = s.run(piece)?;
        let rest = s.run(many(piece))?;
        let pieces: Vec<(char, bool)> = std::iter::once(first).chain(rest).collect();
        let keep = pieces
            .iter()
            .rposition(|&(c, esc)| esc || !SPACES.contains(c))
            .map_or(0, |i| i + 1);
        let any_escape = pieces.iter().any(|&(_, esc)| esc);
        let text: String = pieces[..keep].iter().map(|&(c, _)| c).collect();
        if !any_escape && text.eq_ignore_ascii_case("NULL") {
            return Err(super::parsec::Stop::Err {
                error: ParseError {
                    pos: start.pos,
                    msgs: vec![
                        Msg::Unexpect("NULL".to_owned()),
                        Msg::Expect("a quoted \"NULL\" (null items cannot be compared)".to_owned()),
                    ],
                },
                consumed: true,
            });
        }
        Ok(text)
    })
}

/// One character of an unquoted item and whether it was escaped.
fn piece(src: &[char], st: State) -> Reply<(char, bool)> {
    alt(
        attempt(|src: &[char], st: State| escaped(src, st).map(|c| (c, true))),
        |src: &[char], st: State| satisfy(|c| !"{}\",\\".contains(c))(src, st).map(|c| (c, false)),
    )(src, st)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<String>, String> {
        let chars: Vec<char> = text.chars().collect();
        items(&chars, Pos::START).map_err(|e| format!("{}: {}", e.pos.column, e.details()))
    }

    #[test]
    fn one_dimensional_literals_split_as_postgresql_splits_them() {
        let ok: &[(&str, &[&str])] = &[
            ("{}", &[]),
            (" { } ", &[]),
            ("{a,b}", &["a", "b"]),
            ("{ a , b }", &["a", "b"]),
            ("{a b,c}", &["a b", "c"]),
            (r#"{"a,b",c}"#, &["a,b", "c"]),
            (r#"{"a\"b","c\\d"}"#, &["a\"b", "c\\d"]),
            (r"{a\,b}", &["a,b"]),
            (r"{a\ }", &["a "]),
            (r#"{"NULL",null\ }"#, &["NULL", "null "]),
            (r#"{"",x}"#, &["", "x"]),
            ("{1,2,3}", &["1", "2", "3"]),
            ("{é,😀}", &["é", "😀"]),
        ];
        for (text, want) in ok {
            let want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
            assert_eq!(parse(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn what_the_ast_cannot_hold_is_refused_with_a_position() {
        let err: &[(&str, &str)] = &[
            ("5", "1: unexpected \"5\" expecting \"{\""),
            ("", "1: unexpected end of input expecting \"{\""),
            (
                "{a,NULL}",
                "4: unexpected NULL expecting a quoted \"NULL\" (null items cannot be compared)",
            ),
            (
                "{{1,2}}",
                "2: unexpected \"{\" expecting \"}\" or an array item",
            ),
            ("{a,}", "4: unexpected \"}\" expecting an array item"),
            ("{a}x", "4: unexpected 'x' expecting end of input"),
            ("[1:2]={1,2}", "1: unexpected \"[\" expecting \"{\""),
            (
                "{\"a}",
                "5: unexpected end of input expecting \"\\\\\" or \"\\\"\"",
            ),
        ];
        for (text, want) in err {
            assert_eq!(parse(text), Err(want.to_string()), "{text}");
        }
    }
}
