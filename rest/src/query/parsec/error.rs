//! Parsec's error value: a position and a list of messages, merged the way Parsec merges them
//! and printed the way `showErrorMessages` prints them. PostgREST's PGRST100 `details` are that
//! printout, so every rule here (which position wins, which message kind hides another, how
//! duplicates go) decides a byte a client may match on.

use std::cmp::Ordering;

/// Line and column as Parsec counts them: both from 1, a tab jumps to the next multiple of 8
/// (plus one), a newline starts a new line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Pos {
    pub(crate) line: u32,
    pub(crate) column: u32,
}

impl Pos {
    pub(crate) const START: Pos = Pos { line: 1, column: 1 };

    /// Where the next character starts once `c` is read (Parsec's `updatePosChar`).
    pub(crate) fn after(self, c: char) -> Pos {
        match c {
            '\n' => Pos {
                line: self.line.saturating_add(1),
                column: 1,
            },
            '\t' => Pos {
                line: self.line,
                column: self
                    .column
                    .saturating_add(8 - (self.column.saturating_sub(1) % 8)),
            },
            _ => Pos {
                line: self.line,
                column: self.column.saturating_add(1),
            },
        }
    }
}

/// One message; Parsec orders and hides them by kind only, never by text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Msg {
    /// What a primitive met, already `show`n (`"\"x\""`; empty means end of input).
    SysUnexpect(String),
    /// What `unexpected` (and so `notFollowedBy`, `eof`) reported (`"'x'"`).
    Unexpect(String),
    /// A token or a label that would have been accepted.
    Expect(String),
    /// Free text (`fail`); here only our own additions.
    Message(String),
}

impl Msg {
    fn kind(&self) -> u8 {
        match self {
            Msg::SysUnexpect(_) => 0,
            Msg::Unexpect(_) => 1,
            Msg::Expect(_) => 2,
            Msg::Message(_) => 3,
        }
    }

    fn text(&self) -> &str {
        match self {
            Msg::SysUnexpect(s) | Msg::Unexpect(s) | Msg::Expect(s) | Msg::Message(s) => s,
        }
    }
}

/// A parse error; no messages at all is Parsec's "unknown error", which loses every merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError {
    pub(crate) pos: Pos,
    pub(crate) msgs: Vec<Msg>,
}

impl ParseError {
    pub(crate) fn unknown(pos: Pos) -> ParseError {
        ParseError {
            pos,
            msgs: Vec::new(),
        }
    }

    pub(crate) fn new(pos: Pos, msg: Msg) -> ParseError {
        ParseError {
            pos,
            msgs: vec![msg],
        }
    }

    pub(crate) fn is_unknown(&self) -> bool {
        self.msgs.is_empty()
    }

    /// `mergeError`: a known error beats an unknown one, then the farther position wins, and
    /// equal positions keep both lists.
    pub(crate) fn merge(self, other: ParseError) -> ParseError {
        if other.is_unknown() && !self.is_unknown() {
            return self;
        }
        if self.is_unknown() && !other.is_unknown() {
            return other;
        }
        match self.pos.cmp(&other.pos) {
            Ordering::Equal => {
                let mut msgs = self.msgs;
                msgs.extend(other.msgs);
                ParseError {
                    pos: self.pos,
                    msgs,
                }
            }
            Ordering::Greater => self,
            Ordering::Less => other,
        }
    }

    /// What `<?>` does: every expectation is replaced by the label.
    pub(crate) fn with_expect(mut self, label: &str) -> ParseError {
        self.msgs.retain(|m| !matches!(m, Msg::Expect(_)));
        self.msgs.insert(0, Msg::Expect(label.to_owned()));
        self
    }

    /// The `details` text: `showErrorMessages "or" "unknown parse error" "expecting"
    /// "unexpected" "end of input"`, its newlines made spaces and the ends trimmed.
    pub(crate) fn details(&self) -> String {
        let mut sorted = self.msgs.clone();
        sorted.sort_by_key(Msg::kind); // stable, as Haskell's `sort`
        let of = |kind: u8| -> Vec<&Msg> { sorted.iter().filter(|m| m.kind() == kind).collect() };
        let (sys, unexpect, expect, message) = (of(0), of(1), of(2), of(3));
        if self.msgs.is_empty() {
            return "unknown parse error".to_owned();
        }
        let sys_part = match sys.first() {
            Some(first) if unexpect.is_empty() => {
                if first.text().is_empty() {
                    "unexpected end of input".to_owned()
                } else {
                    format!("unexpected {}", first.text())
                }
            }
            _ => String::new(),
        };
        let parts = [
            sys_part,
            show_many("unexpected", &unexpect),
            show_many("expecting", &expect),
            show_many("", &message),
        ];
        let joined: String = clean(parts.iter().map(String::as_str))
            .into_iter()
            .map(|p| format!("\n{p}"))
            .collect();
        haskell_strip(&joined.replace('\n', " ")).to_owned()
    }
}

fn show_many(prefix: &str, msgs: &[&Msg]) -> String {
    let texts = clean(msgs.iter().map(|m| m.text()));
    if texts.is_empty() {
        return String::new();
    }
    let listed = commas_or(&texts);
    if prefix.is_empty() {
        listed
    } else {
        format!("{prefix} {listed}")
    }
}

/// Parsec's `clean`: no empty texts, no repeats, first occurrence kept.
fn clean<'a>(texts: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for t in texts {
        if !t.is_empty() && !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

fn commas_or(texts: &[&str]) -> String {
    match texts {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Haskell's `isSpace` (what `T.strip` trims): ASCII white space, NBSP and category Zs.
pub(crate) fn haskell_is_space(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

/// `T.strip`.
pub(crate) fn haskell_strip(s: &str) -> &str {
    s.trim_matches(haskell_is_space)
}

const ASCII_NAMES: [&str; 33] = [
    "NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF", "VT", "FF", "CR",
    "SO", "SI", "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB", "ESC",
    "FS", "GS", "RS", "US", "SP",
];

/// Haskell's `showLitChar` for `c`; `next` is the character that follows, for the `\&` that
/// keeps `\1234` from swallowing a digit (and `\SO` an `H`).
fn show_lit_char(c: char, next: Option<char>, out: &mut String) {
    match c {
        '\u{7F}' => out.push_str("\\DEL"),
        c if c > '\u{7F}' => {
            out.push('\\');
            out.push_str(&u32::from(c).to_string());
            if next.is_some_and(|n| n.is_ascii_digit()) {
                out.push_str("\\&");
            }
        }
        '\\' => out.push_str("\\\\"),
        c if c >= ' ' => out.push(c),
        '\u{07}' => out.push_str("\\a"),
        '\u{08}' => out.push_str("\\b"),
        '\u{0C}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{0B}' => out.push_str("\\v"),
        '\u{0E}' => {
            out.push_str("\\SO");
            if next == Some('H') {
                out.push_str("\\&");
            }
        }
        c => {
            out.push('\\');
            out.push_str(ASCII_NAMES[c as usize]);
        }
    }
}

/// Haskell's `show` of a `String`: `"a\"b"`.
pub(crate) fn show_string(s: &str) -> String {
    let mut out = String::from("\"");
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            out.push_str("\\\"");
        } else {
            show_lit_char(c, chars.peek().copied(), &mut out);
        }
    }
    out.push('"');
    out
}

/// Haskell's `show` of a `Char`: `'x'`.
pub(crate) fn show_char(c: char) -> String {
    if c == '\'' {
        return "'\\''".to_owned();
    }
    let mut out = String::from("'");
    show_lit_char(c, None, &mut out);
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haskell_show_escapes_as_ghc_does() {
        let cases: &[(&str, &str)] = &[
            ("a", "\"a\""),
            ("\"", "\"\\\"\""),
            ("\\", "\"\\\\\""),
            ("\0", "\"\\NUL\""),
            ("\u{1}", "\"\\SOH\""),
            ("\n", "\"\\n\""),
            ("\u{7F}", "\"\\DEL\""),
            ("é", "\"\\233\""),
            ("é1", "\"\\233\\&1\""),
            ("\u{E}H", "\"\\SO\\&H\""),
            ("😀", "\"\\128512\""),
        ];
        for (input, shown) in cases {
            assert_eq!(show_string(input), *shown, "show {input:?}");
        }
        assert_eq!(show_char('\''), "'\\''");
        assert_eq!(show_char('"'), "'\"'");
        assert_eq!(show_char('['), "'['");
        assert_eq!(show_char('\u{E9}'), "'\\233'");
    }

    #[test]
    fn tabs_and_newlines_move_the_position_as_parsec_does() {
        let p = Pos::START.after('\t');
        assert_eq!(p, Pos { line: 1, column: 9 });
        assert_eq!(
            Pos { line: 1, column: 3 }.after('\t'),
            Pos { line: 1, column: 9 }
        );
        assert_eq!(Pos::START.after('\n'), Pos { line: 2, column: 1 });
    }

    #[test]
    fn details_hide_system_unexpected_behind_unexpected() {
        let e = ParseError {
            pos: Pos::START,
            msgs: vec![
                Msg::SysUnexpect("\"[\"".into()),
                Msg::Expect("letter".into()),
                Msg::Unexpect("'['".into()),
                Msg::Expect("digit".into()),
                Msg::Expect("letter".into()),
                Msg::Expect("end of input".into()),
            ],
        };
        assert_eq!(
            e.details(),
            "unexpected '[' expecting letter, digit or end of input"
        );
        let eof = ParseError::new(Pos::START, Msg::SysUnexpect(String::new()));
        assert_eq!(eof.details(), "unexpected end of input");
    }
}
