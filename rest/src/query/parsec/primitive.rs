//! Parsec's primitives, each failing as Parsec's does: at the position where it began, with
//! the character it met `show`n the Haskell way, and consuming (for `string`) on a partial
//! match.

use super::combinator::{label, label_owned, relabel};
use super::{Msg, ParseError, Reply, State, show_char, show_string};
/// `satisfy`: one character that `pred` accepts.
pub(crate) fn satisfy(pred: impl Fn(char) -> bool) -> impl Fn(&[char], State) -> Reply<char> {
    move |src: &[char], st: State| match src.get(st.index) {
        Some(&c) if pred(c) => Reply::Ok {
            value: c,
            state: State {
                index: st.index + 1,
                pos: st.pos.after(c),
            },
            consumed: true,
            error: ParseError::unknown(st.pos.after(c)),
        },
        Some(&c) => Reply::Err {
            error: ParseError::new(st.pos, Msg::SysUnexpect(show_string(&c.to_string()))),
            consumed: false,
        },
        None => Reply::Err {
            error: ParseError::new(st.pos, Msg::SysUnexpect(String::new())),
            consumed: false,
        },
    }
}

/// `char c`: `satisfy (== c) <?> show [c]`.
pub(crate) fn char_(c: char) -> impl Fn(&[char], State) -> Reply<char> {
    let shown = show_string(&c.to_string());
    label_owned(satisfy(move |x| x == c), shown)
}

/// `oneOf`: no label of its own, as in Parsec.
pub(crate) fn one_of(set: &'static str) -> impl Fn(&[char], State) -> Reply<char> {
    satisfy(move |c| set.contains(c))
}

/// `noneOf`.
pub(crate) fn none_of(set: &'static str) -> impl Fn(&[char], State) -> Reply<char> {
    satisfy(move |c| !set.contains(c))
}

/// `anyChar`.
pub(crate) fn any_char(src: &[char], st: State) -> Reply<char> {
    satisfy(|_| true)(src, st)
}

/// `letter`: Haskell's `isAlpha` (here Unicode Alphabetic, a close superset).
pub(crate) fn letter(src: &[char], st: State) -> Reply<char> {
    label(satisfy(char::is_alphabetic), "letter")(src, st)
}

/// `digit`: ASCII digits only, as Haskell's `isDigit`.
pub(crate) fn digit(src: &[char], st: State) -> Reply<char> {
    label(satisfy(|c| c.is_ascii_digit()), "digit")(src, st)
}

/// `string s`: consumes on a partial match (hence the `try`s around it), and reports at the
/// position where `s` began.
pub(crate) fn string(s: &'static str) -> impl Fn(&[char], State) -> Reply<&'static str> {
    move |src: &[char], st: State| {
        let mut cur = st;
        for (i, want) in s.chars().enumerate() {
            let fail = |found: String| Reply::Err {
                error: ParseError {
                    pos: st.pos,
                    msgs: vec![Msg::Expect(show_string(s)), Msg::SysUnexpect(found)],
                },
                consumed: i > 0,
            };
            match src.get(cur.index) {
                Some(&c) if c == want => {
                    cur = State {
                        index: cur.index + 1,
                        pos: cur.pos.after(c),
                    }
                }
                Some(&c) => return fail(show_string(&c.to_string())),
                None => return fail(String::new()),
            }
        }
        Reply::Ok {
            value: s,
            state: cur,
            consumed: !s.is_empty(),
            error: ParseError::unknown(cur.pos),
        }
    }
}

/// `eof`: `notFollowedBy anyToken <?> "end of input"` (`anyToken` does not move the position).
pub(crate) fn eof(src: &[char], st: State) -> Reply<()> {
    let reply = match src.get(st.index) {
        Some(&c) => Reply::Err {
            error: ParseError::new(st.pos, Msg::Unexpect(show_char(c))),
            consumed: false,
        },
        None => Reply::Ok {
            value: (),
            state: st,
            consumed: false,
            error: ParseError::new(st.pos, Msg::SysUnexpect(String::new())),
        },
    };
    relabel(reply, "end of input")
}

/// `return x`.
pub(crate) fn pure<T: Clone>(value: T) -> impl Fn(&[char], State) -> Reply<T> {
    move |_: &[char], st: State| Reply::Ok {
        value: value.clone(),
        state: st,
        consumed: false,
        error: ParseError::unknown(st.pos),
    }
}
