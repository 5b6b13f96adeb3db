//! Parsec's combinators, with its rules on consumption and errors: `<|>` tries its second
//! parser only after a failure that consumed nothing and merges both errors; `try` forgets
//! consumption; a label replaces expectations only when nothing was consumed; `many` keeps
//! the error of its last, failed, attempt.

use super::primitive::pure;
use super::{Msg, ParseError, Reply, State, seq};
/// `p <|> q`: `q` only when `p` failed without consuming; errors of both merged.
pub(crate) fn alt<T>(
    p: impl Fn(&[char], State) -> Reply<T>,
    q: impl Fn(&[char], State) -> Reply<T>,
) -> impl Fn(&[char], State) -> Reply<T> {
    move |src: &[char], st: State| match p(src, st) {
        Reply::Err {
            error: e1,
            consumed: false,
        } => match q(src, st) {
            Reply::Ok {
                value,
                state,
                consumed: false,
                error,
            } => Reply::Ok {
                value,
                state,
                consumed: false,
                error: e1.merge(error),
            },
            Reply::Err {
                error,
                consumed: false,
            } => Reply::Err {
                error: e1.merge(error),
                consumed: false,
            },
            other => other,
        },
        other => other,
    }
}

/// `try p`.
pub(crate) fn attempt<T>(
    p: impl Fn(&[char], State) -> Reply<T>,
) -> impl Fn(&[char], State) -> Reply<T> {
    move |src: &[char], st: State| match p(src, st) {
        Reply::Err { error, .. } => Reply::Err {
            error,
            consumed: false,
        },
        other => other,
    }
}

pub(super) fn relabel<T>(reply: Reply<T>, name: &str) -> Reply<T> {
    match reply {
        Reply::Ok {
            value,
            state,
            consumed: false,
            error,
        } if !error.is_unknown() => Reply::Ok {
            value,
            state,
            consumed: false,
            error: error.with_expect(name),
        },
        Reply::Err {
            error,
            consumed: false,
        } => Reply::Err {
            error: error.with_expect(name),
            consumed: false,
        },
        other => other,
    }
}

/// `p <?> name`.
pub(crate) fn label<T>(
    p: impl Fn(&[char], State) -> Reply<T>,
    name: &'static str,
) -> impl Fn(&[char], State) -> Reply<T> {
    move |src: &[char], st: State| relabel(p(src, st), name)
}

pub(super) fn label_owned<T>(
    p: impl Fn(&[char], State) -> Reply<T>,
    name: String,
) -> impl Fn(&[char], State) -> Reply<T> {
    move |src: &[char], st: State| relabel(p(src, st), &name)
}

/// `many p`, folding each value into `acc` (so strings need no intermediate vector).
pub(crate) fn many_fold<T, A>(
    p: impl Fn(&[char], State) -> Reply<T>,
    init: impl Fn() -> A,
    fold: impl Fn(&mut A, T),
) -> impl Fn(&[char], State) -> Reply<A> {
    move |src: &[char], st: State| {
        let mut acc = init();
        let mut state = st;
        let mut consumed = false;
        loop {
            match p(src, state) {
                Reply::Ok {
                    value,
                    state: next,
                    consumed: true,
                    ..
                } => {
                    fold(&mut acc, value);
                    state = next;
                    consumed = true;
                }
                // Parsec aborts on a parser that succeeds on nothing; no production here does.
                Reply::Ok { error, .. }
                | Reply::Err {
                    error,
                    consumed: false,
                } => {
                    return Reply::Ok {
                        value: acc,
                        state,
                        consumed,
                        error,
                    };
                }
                Reply::Err {
                    error,
                    consumed: true,
                } => {
                    return Reply::Err {
                        error,
                        consumed: true,
                    };
                }
                Reply::Fatal(e) => return Reply::Fatal(e),
            }
        }
    }
}

/// `many p`.
pub(crate) fn many<T>(
    p: impl Fn(&[char], State) -> Reply<T>,
) -> impl Fn(&[char], State) -> Reply<Vec<T>> {
    many_fold(p, Vec::new, |acc: &mut Vec<T>, v| acc.push(v))
}

/// `many` of characters, as a `String`.
pub(crate) fn many_chars(
    p: impl Fn(&[char], State) -> Reply<char>,
) -> impl Fn(&[char], State) -> Reply<String> {
    many_fold(p, String::new, |acc: &mut String, c| acc.push(c))
}

/// `many1` of characters, as a `String`.
pub(crate) fn many1_chars(
    p: impl Fn(&[char], State) -> Reply<char>,
) -> impl Fn(&[char], State) -> Reply<String> {
    move |src: &[char], st: State| {
        seq(src, st, |s| {
            let first = s.run(&p)?;
            let rest = s.run(many_chars(&p))?;
            let mut out = String::with_capacity(rest.len() + 1);
            out.push(first);
            out.push_str(&rest);
            Ok(out)
        })
    }
}

/// `sepBy1 p sep`.
pub(crate) fn sep_by1<T, S>(
    p: impl Fn(&[char], State) -> Reply<T>,
    sep: impl Fn(&[char], State) -> Reply<S>,
) -> impl Fn(&[char], State) -> Reply<Vec<T>> {
    move |src: &[char], st: State| {
        let (p, sep) = (&p, &sep);
        seq(src, st, |s| {
            let first = s.run(p)?;
            let mut rest = s.run(many(move |src: &[char], st: State| {
                seq(src, st, |s| {
                    s.run(sep)?;
                    s.run(p)
                })
            }))?;
            rest.insert(0, first);
            Ok(rest)
        })
    }
}

/// `optionMaybe p`.
pub(crate) fn option_maybe<T: Clone>(
    p: impl Fn(&[char], State) -> Reply<T>,
) -> impl Fn(&[char], State) -> Reply<Option<T>> {
    alt(
        move |src: &[char], st: State| p(src, st).map(Some),
        pure(None),
    )
}

/// `lookAhead p`: succeeds without consuming (and with no hint).
pub(crate) fn look_ahead<T>(
    p: impl Fn(&[char], State) -> Reply<T>,
) -> impl Fn(&[char], State) -> Reply<T> {
    move |src: &[char], st: State| match p(src, st) {
        Reply::Ok { value, .. } => Reply::Ok {
            value,
            state: st,
            consumed: false,
            error: ParseError::unknown(st.pos),
        },
        other => other,
    }
}

/// `notFollowedBy p`, `show` naming what `p` found.
pub(crate) fn not_followed_by<T>(
    p: impl Fn(&[char], State) -> Reply<T>,
    show: impl Fn(&T) -> String,
) -> impl Fn(&[char], State) -> Reply<()> {
    move |src: &[char], st: State| match p(src, st) {
        Reply::Ok { value, state, .. } => Reply::Err {
            error: ParseError::new(state.pos, Msg::Unexpect(show(&value))),
            consumed: false,
        },
        Reply::Err { error, .. } => Reply::Ok {
            value: (),
            state: st,
            consumed: false,
            error,
        },
        Reply::Fatal(e) => Reply::Fatal(e),
    }
}
