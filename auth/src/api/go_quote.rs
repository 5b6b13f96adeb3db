//! Go's two ways of quoting a client's text inside an error message, so GoTrue's messages come
//! out byte for byte: `strconv.Quote` (in strconv errors, e.g. a bad `per_page`) and the time
//! package's own `quote` (in duration errors, e.g. a bad `ban_duration`).

/// `strconv.Quote`: printable characters as they are, `"` and `\` escaped, control characters
/// as `\n`, `\t`, ... or `\xNN`, other unprintable ones as `\uNNNN` / `\UNNNNNNNN`.
///
/// Go's notion of printable comes from Unicode categories; this approximates it with "not a
/// control character, and no whitespace but the space".
pub fn strconv(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if c < ' ' || c == '\x7f' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c == ' ' || !(c.is_control() || c.is_whitespace()) => out.push(c),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// The time package's `quote`: ASCII as it is (with `"` and `\` escaped), every byte of
/// anything else, or of a control character, as `\xNN`.
pub fn time(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if c.is_ascii() && c >= ' ' {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{byte:02x}"));
            }
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn strconv_quotes_like_go() {
        assert_eq!(super::strconv("-1"), r#""-1""#);
        assert_eq!(super::strconv("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(super::strconv("\n\0\u{7f}é"), r#""\n\x00\x7fé""#);
        assert_eq!(super::strconv("\u{2028}"), r#""\u2028""#);
    }

    #[test]
    fn time_quotes_like_go() {
        assert_eq!(super::time("1d"), r#""1d""#);
        assert_eq!(super::time("5µs\t"), r#""5\xc2\xb5s\x09""#);
    }
}
