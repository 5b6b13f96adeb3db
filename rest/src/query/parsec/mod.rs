//! A small parser-combinator core with Parsec's semantics, so that PGRST100 errors carry the
//! position and the "unexpected … expecting …" text that PostgREST's Parsec grammar produces.
//!
//! Why by hand: the clients' and PostgREST's own tests match on those texts, and they fall out
//! of Parsec's rules (an error at a farther position wins; `try` turns a consumed failure into
//! an empty one; a label replaces the expectations only when nothing was consumed; a parser that
//! consumed keeps its own error hint and drops the ones before it). No crate reproduces those
//! rules, so the productions in the sibling modules are written against this core, alternative
//! for alternative, and the messages come out the same.
//!
//! Parsers are plain functions `Fn(&[char], State) -> Reply<T>`. Nesting is bounded by the
//! callers (see `MAX_DEPTH`), and a [`Reply::Fatal`] error cuts through every `try` and `<|>`.

mod combinator;
pub(crate) mod error;
mod primitive;

pub(crate) use combinator::{
    alt, attempt, label, look_ahead, many, many_chars, many1_chars, not_followed_by, option_maybe,
    sep_by1,
};
pub(crate) use error::{Msg, ParseError, Pos, show_char, show_string};
pub(crate) use primitive::{
    any_char, char_, digit, eof, letter, none_of, one_of, pure, satisfy, string,
};

/// How deep `(` may nest in `select` and logic trees: far above any real request, far below
/// what the stack holds.
pub(crate) const MAX_DEPTH: usize = 32;

/// Where a parser stands in its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct State {
    pub(crate) index: usize,
    pub(crate) pos: Pos,
}

impl State {
    pub(crate) const START: State = State {
        index: 0,
        pos: Pos::START,
    };
}

/// A parser's answer, with Parsec's four cases (consumed or not, ok or error) plus a fatal
/// error that no alternative may recover from.
#[derive(Debug)]
pub(crate) enum Reply<T> {
    Ok {
        value: T,
        state: State,
        consumed: bool,
        /// The hint: what would also have been accepted here, merged into a later error at
        /// the same position.
        error: ParseError,
    },
    Err {
        error: ParseError,
        consumed: bool,
    },
    Fatal(ParseError),
}

impl<T> Reply<T> {
    pub(crate) fn map<U>(self, f: impl FnOnce(T) -> U) -> Reply<U> {
        match self {
            Reply::Ok {
                value,
                state,
                consumed,
                error,
            } => Reply::Ok {
                value: f(value),
                state,
                consumed,
                error,
            },
            Reply::Err { error, consumed } => Reply::Err { error, consumed },
            Reply::Fatal(e) => Reply::Fatal(e),
        }
    }
}

/// A failed step of a [`seq`], carried out with `?`.
pub(crate) enum Stop {
    Err { error: ParseError, consumed: bool },
    Fatal(ParseError),
}

/// Runs steps one after another as Parsec's `>>=` does: the hint error accumulates while steps
/// consume nothing and restarts from each step that consumes.
pub(crate) struct Seq<'s> {
    src: &'s [char],
    state: State,
    consumed: bool,
    hint: ParseError,
}

impl Seq<'_> {
    /// Runs `p` here; its value, or the [`Stop`] that ends the sequence.
    pub(crate) fn run<T>(&mut self, p: impl Fn(&[char], State) -> Reply<T>) -> Result<T, Stop> {
        match p(self.src, self.state) {
            Reply::Ok {
                value,
                state,
                consumed,
                error,
            } => {
                if consumed {
                    self.consumed = true;
                    self.hint = error;
                } else {
                    self.hint = std::mem::replace(&mut self.hint, ParseError::unknown(state.pos))
                        .merge(error);
                }
                self.state = state;
                Ok(value)
            }
            Reply::Err {
                error,
                consumed: true,
            } => Err(Stop::Err {
                error,
                consumed: true,
            }),
            Reply::Err {
                error,
                consumed: false,
            } => {
                let hint = std::mem::replace(&mut self.hint, ParseError::unknown(self.state.pos));
                Err(Stop::Err {
                    error: hint.merge(error),
                    consumed: self.consumed,
                })
            }
            Reply::Fatal(e) => Err(Stop::Fatal(e)),
        }
    }

    /// Where the sequence stands now.
    pub(crate) fn state(&self) -> State {
        self.state
    }

    /// Ends the sequence with an error of its own at the current position (`unexpected`,
    /// `fail`), merged with the hint like any failing step.
    pub(crate) fn fail<T>(&mut self, msgs: Vec<Msg>) -> Result<T, Stop> {
        let pos = self.state.pos;
        self.run(move |_: &[char], _: State| Reply::<T>::Err {
            error: ParseError {
                pos,
                msgs: msgs.clone(),
            },
            consumed: false,
        })
    }
}

/// `do { … }`: `body` runs the steps with [`Seq::run`] and `?`.
pub(crate) fn seq<T>(
    src: &[char],
    state: State,
    body: impl FnOnce(&mut Seq) -> Result<T, Stop>,
) -> Reply<T> {
    let mut s = Seq {
        src,
        state,
        consumed: false,
        hint: ParseError::unknown(state.pos),
    };
    match body(&mut s) {
        Ok(value) => Reply::Ok {
            value,
            state: s.state,
            consumed: s.consumed,
            error: s.hint,
        },
        Err(Stop::Err { error, consumed }) => Reply::Err { error, consumed },
        Err(Stop::Fatal(e)) => Reply::Fatal(e),
    }
}

/// A fatal error at `state`: nesting too deep. It ends the whole parse.
pub(crate) fn too_deep<T>(state: State, what: &str) -> Reply<T> {
    Reply::Fatal(ParseError::new(
        state.pos,
        Msg::Message(format!(
            "{what} nested deeper than {MAX_DEPTH} levels; flatten the request"
        )),
    ))
}

/// Test support: runs `p` from the start of `input`; an error as `(column, details)`.
#[cfg(test)]
pub(crate) fn run_str<T>(
    p: impl Fn(&[char], State) -> Reply<T>,
    input: &str,
) -> Result<T, (u32, String)> {
    let chars: Vec<char> = input.chars().collect();
    match p(&chars, State::START) {
        Reply::Ok { value, .. } => Ok(value),
        Reply::Err { error, .. } | Reply::Fatal(error) => Err((error.pos.column, error.details())),
    }
}
