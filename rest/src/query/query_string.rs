//! The raw query string as key/value pairs, decoded as PostgREST decodes it
//! (http-types' `parseQueryReplacePlus True`), and re-encoded for `Content-Location`
//! (HTTP's `urlEncodeVars` over the pairs sorted by key).
//!
//! Decoding: pairs are separated by `&` or `;`; a pair without `=` has no value (and is
//! ignored by everything but `Content-Location`); `+` is a space; `%XX` is a byte, and a `%`
//! not followed by two hex digits stays as it is. PostgREST then decodes keys and values as
//! UTF-8 and fails with an internal error on anything else; here that is a PGRST100.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode, percent_encode};

use crate::ApiError;

use super::parsec::Pos;

/// One decoded pair, still bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawPair {
    pub(crate) key: Vec<u8>,
    pub(crate) value: Option<Vec<u8>>,
}

/// One pair as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pair {
    pub(crate) key: String,
    pub(crate) value: Option<String>,
}

fn url_decode(part: &str) -> Vec<u8> {
    let plus_as_space: Vec<u8> = part
        .bytes()
        .map(|b| if b == b'+' { b' ' } else { b })
        .collect();
    percent_decode(&plus_as_space).collect()
}

/// Splits and percent-decodes `query` (given without its `?`).
pub(crate) fn split(query: &str) -> Vec<RawPair> {
    if query.is_empty() {
        return Vec::new();
    }
    let mut parts: Vec<&str> = query.split(['&', ';']).collect();
    // A separator at the very end ends the list; one anywhere else leaves an empty pair.
    if parts.last() == Some(&"") {
        parts.pop();
    }
    parts
        .into_iter()
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => RawPair {
                key: url_decode(k),
                value: Some(url_decode(v)),
            },
            None => RawPair {
                key: url_decode(pair),
                value: None,
            },
        })
        .collect()
}

/// HTTP's `urlEncode` keeps ASCII letters, digits and `-_.~`.
const KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `Content-Location`'s query: pairs sorted by key (stable), the values of a repeated key
/// joined with `,`, a pair without value written `k=`.
pub(crate) fn canonical(pairs: &[RawPair]) -> String {
    let mut sorted: Vec<&RawPair> = pairs.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    let mut out = String::new();
    let mut previous: Option<&[u8]> = None;
    for pair in sorted {
        let value = pair.value.as_deref().unwrap_or_default();
        if previous == Some(pair.key.as_slice()) {
            out.push(',');
        } else {
            if previous.is_some() {
                out.push('&');
            }
            out.extend(percent_encode(&pair.key, KEEP));
            out.push('=');
            previous = Some(&pair.key);
        }
        out.extend(percent_encode(value, KEEP));
    }
    out
}

/// The pairs as UTF-8 text; the first key or value that is not UTF-8 is a PGRST100 naming
/// where it breaks.
pub(crate) fn decode(pairs: Vec<RawPair>) -> Result<Vec<Pair>, ApiError> {
    let text = |bytes: Vec<u8>| {
        String::from_utf8(bytes).map_err(|e| {
            let bytes = e.as_bytes();
            let valid = e.utf8_error().valid_up_to();
            let bad = bytes.get(valid).copied().unwrap_or_default();
            let before = String::from_utf8_lossy(&bytes[..valid]);
            let pos = before.chars().fold(Pos::START, Pos::after);
            ApiError::ParseQuery {
                message: format!(
                    "\"failed to parse query parameter ({})\" (line {}, column {})",
                    String::from_utf8_lossy(bytes),
                    pos.line,
                    pos.column
                ),
                details: format!(
                    "unexpected byte 0x{bad:02X} expecting UTF-8 text (percent-encode the parameter's UTF-8 bytes)"
                ),
            }
        })
    };
    pairs
        .into_iter()
        .map(|p| {
            Ok(Pair {
                key: text(p.key)?,
                value: p.value.map(text).transpose()?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
