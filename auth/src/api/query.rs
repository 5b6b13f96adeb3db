//! The query string as GoTrue sees it: Go's `url.Values`.
//!
//! axum's `Query` refuses a repeated parameter with a `text/plain` 400; Go keeps every value
//! and `Get` returns the first, so `?grant_type=password&grant_type=x` is a password grant.
//! Go also drops, without failing the request, a pair containing `;` or a malformed `%`
//! escape. Parsing never fails here either: handlers see what GoTrue's handlers see.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// The decoded pairs of a query string, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoQuery(Vec<(String, String)>);

impl GoQuery {
    /// Go's `url.ParseQuery`, keeping what it keeps.
    pub fn parse(raw: &str) -> Self {
        let pairs = raw
            .split('&')
            .filter(|pair| !pair.is_empty() && !pair.contains(';'))
            .filter_map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                Some((unescape(key)?, unescape(value)?))
            })
            .collect();
        GoQuery(pairs)
    }

    /// The first value of `key`, as `url.Values.Get`; `None` when absent (Go's `""`).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `key`, in order.
    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The query with every value of `key` replaced by `value` (`url.Values.Set`), encoded as
    /// `url.Values.Encode` does: keys sorted, each value escaped.
    pub fn encode_with(&self, key: &str, value: &str) -> String {
        let mut pairs: Vec<(&str, &str)> = self
            .0
            .iter()
            .filter(|(k, _)| k != key)
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        pairs.push((key, value));
        // A stable sort keeps the values of one key in their order, as Go does.
        pairs.sort_by(|a, b| a.0.cmp(b.0));
        pairs
            .iter()
            .map(|(k, v)| format!("{}={}", escape(k), escape(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

impl<S: Send + Sync> FromRequestParts<S> for GoQuery {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(GoQuery::parse(parts.uri.query().unwrap_or_default()))
    }
}

/// Go's `url.QueryUnescape`: `+` is a space, `%XX` a byte; a `%` without two hex digits makes
/// the pair unusable. Bytes that are not UTF-8 become U+FFFD.
fn unescape(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(at + 1..at + 3)?).ok()?;
                if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                out.push(u8::from_str_radix(hex, 16).ok()?);
                at += 2;
            }
            other => out.push(other),
        }
        at += 1;
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// Go's `url.QueryEscape`: letters, digits and `-_.~` stay, a space becomes `+`, the rest `%XX`.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char);
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::GoQuery;

    #[test]
    fn repeated_parameters_keep_every_value_and_get_takes_the_first() {
        let q = GoQuery::parse("grant_type=password&grant_type=x&sort=a&sort=b");
        assert_eq!(q.get("grant_type"), Some("password"));
        assert_eq!(q.all("sort").collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(q.get("missing"), None);
    }

    #[test]
    fn pairs_go_would_drop_are_dropped() {
        let q = GoQuery::parse("a=1;b=2&c=%zz&d=%4&e=ok&=v&&f");
        assert_eq!(q.get("a"), None);
        assert_eq!(q.get("c"), None);
        assert_eq!(q.get("d"), None);
        assert_eq!(q.get("e"), Some("ok"));
        assert_eq!(q.get(""), Some("v"));
        assert_eq!(q.get("f"), Some(""));
    }

    #[test]
    fn values_are_unescaped_and_lossy() {
        let q = GoQuery::parse("filter=a+b%20c%00&x=%ff");
        assert_eq!(q.get("filter"), Some("a b c\0"));
        assert_eq!(q.get("x"), Some("\u{fffd}"));
    }

    #[test]
    fn encoding_sorts_keys_and_replaces_the_set_one() {
        let q = GoQuery::parse("per_page=2&filter=a b&page=1&page=7");
        assert_eq!(q.encode_with("page", "3"), "filter=a+b&page=3&per_page=2");
        assert_eq!(GoQuery::default().encode_with("page", "1"), "page=1");
        assert_eq!(
            GoQuery::parse("x=%2F%3F*").encode_with("page", "0"),
            "page=0&x=%2F%3F%2A"
        );
    }
}
