//! Request bodies as GoTrue reads them: the whole body (at most 1 MiB, within a time bound),
//! decoded as Go's `encoding/json` decodes it. Content-Type is not checked, as in GoTrue.
//!
//! Go's decoder is lenient about text where serde_json is strict: invalid UTF-8 inside a
//! string becomes U+FFFD (one per bad byte), and so does a `\u` escape naming half of a
//! surrogate pair on its own. [`repair`] rewrites those spots before serde_json sees the body,
//! so a client's odd text is stored as GoTrue would store it, never refused for it. A key that
//! appears twice keeps its last value, as in Go.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;

/// How long a body may take to arrive in full: GoTrue's default request duration
/// (GOTRUE_API_MAX_REQUEST_DURATION, 10 s).
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// A JSON body.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let _ = state;
        let bytes = read(req).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// An optional JSON body: an empty one means the defaults (GoTrue's admin delete).
pub struct OptionalJsonBody<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let _ = state;
        let bytes = read(req).await?;
        if bytes.is_empty() {
            return Ok(OptionalJsonBody(T::default()));
        }
        parse_json(&bytes).map(OptionalJsonBody)
    }
}

/// The whole body, within [`crate::api::BODY_LIMIT`] and [`BODY_TIMEOUT`].
pub async fn read(req: Request) -> Result<Bytes, ApiError> {
    match tokio::time::timeout(BODY_TIMEOUT, Bytes::from_request(req, &())).await {
        Err(_) => Err(ApiError::BodyTimeout(BODY_TIMEOUT)),
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(rejection)) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Err(ApiError::BodyTooLarge)
        }
        Ok(Err(rejection)) => Err(ApiError::BodyUnreadable(rejection.body_text())),
    }
}

/// Decodes a body as GoTrue does, wording the common failure like Go's encoding/json.
pub fn parse_json<T: DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, ApiError> {
    let bad_json = |e: serde_json::Error| {
        let reason = if e.is_eof() {
            "unexpected end of JSON input".to_owned()
        } else {
            e.to_string()
        };
        ApiError::BadJson(reason)
    };
    let value: Value = serde_json::from_slice(&repair(bytes)).map_err(bad_json)?;
    // Go decodes `null` into a struct as "nothing to set".
    if value.is_null() {
        return Ok(T::default());
    }
    serde_json::from_value(value).map_err(bad_json)
}

const REPLACEMENT_ESCAPE: &[u8] = br"\ufffd";
const REPLACEMENT_UTF8: &[u8] = "\u{fffd}".as_bytes();

/// The body with Go's replacements made inside JSON strings: invalid UTF-8 bytes and lone
/// surrogate escapes become U+FFFD. Everything else, malformed JSON included, is left for
/// serde_json to judge.
pub fn repair(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut in_string = false;
    let mut at = 0;
    while at < bytes.len() {
        let byte = bytes[at];
        if !in_string {
            in_string = byte == b'"';
            out.push(byte);
            at += 1;
            continue;
        }
        match byte {
            b'"' => {
                in_string = false;
                out.push(byte);
                at += 1;
            }
            b'\\' => at += copy_escape(&bytes[at..], &mut out),
            0x00..=0x7f => {
                out.push(byte);
                at += 1;
            }
            _ => match utf8_char_len(&bytes[at..]) {
                Some(len) => {
                    out.extend_from_slice(&bytes[at..at + len]);
                    at += len;
                }
                // Go's decoder replaces each invalid byte on its own.
                None => {
                    out.extend_from_slice(REPLACEMENT_UTF8);
                    at += 1;
                }
            },
        }
    }
    out
}

/// Copies the escape at the start of `rest` (which begins with a backslash), replacing a lone
/// surrogate; returns how many input bytes it took.
fn copy_escape(rest: &[u8], out: &mut Vec<u8>) -> usize {
    let Some(unit) = hex_escape(rest) else {
        // `\"`, `\n`, ... or a malformed escape: copied as is, two bytes at most, so that an
        // escaped quote never ends the string here.
        let len = rest.len().min(2);
        out.extend_from_slice(&rest[..len]);
        return len;
    };
    let is_lead = (0xd800..=0xdbff).contains(&unit);
    let is_trail = (0xdc00..=0xdfff).contains(&unit);
    let pairs_with_next =
        is_lead && hex_escape(&rest[6..]).is_some_and(|next| (0xdc00..=0xdfff).contains(&next));
    if pairs_with_next {
        out.extend_from_slice(&rest[..12]);
        12
    } else if is_lead || is_trail {
        // Go replaces the unpaired half and decodes what follows it on its own.
        out.extend_from_slice(REPLACEMENT_ESCAPE);
        6
    } else {
        out.extend_from_slice(&rest[..6]);
        6
    }
}

/// The code unit of a `\uXXXX` escape at the start of `rest`.
fn hex_escape(rest: &[u8]) -> Option<u16> {
    let digits = rest.strip_prefix(br"\u")?.get(..4)?;
    let text = std::str::from_utf8(digits).ok()?;
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u16::from_str_radix(text, 16).ok()
}

/// The length of the valid UTF-8 character at the start of `rest`, if there is one.
fn utf8_char_len(rest: &[u8]) -> Option<usize> {
    let len = match rest[0] {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return None,
    };
    let candidate = rest.get(..len)?;
    std::str::from_utf8(candidate).ok().map(|_| len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repaired(input: &[u8]) -> String {
        String::from_utf8(repair(input)).expect("repair yields UTF-8 for these inputs")
    }

    #[test]
    fn lone_surrogates_become_the_replacement_character() {
        assert_eq!(repaired(br#"{"x":"\ud915"}"#), r#"{"x":"\ufffd"}"#);
        assert_eq!(repaired(br#"{"x":"\udc00a"}"#), r#"{"x":"\ufffda"}"#);
        // A lead followed by something other than a trail: only the lead is replaced.
        assert_eq!(repaired(br#"["\ud800\u0041"]"#), r#"["\ufffd\u0041"]"#);
        assert_eq!(
            repaired(br#"["\ud800\ud800\udc00"]"#),
            r#"["\ufffd\ud800\udc00"]"#
        );
    }

    #[test]
    fn pairs_other_escapes_and_text_outside_strings_are_untouched() {
        for text in [
            r#"{"x":"\ud83d\ude00"}"#,
            r#"{"x":"\\ud915"}"#,
            r#"{"x":"\"\ud915"}"#,
            r#"{"x": 12, "y": [true, null]}"#,
            r#"{"\u0041":"é"}"#,
        ] {
            let expected = text.replace(r#"\"\ud915"#, r#"\"\ufffd"#);
            assert_eq!(repaired(text.as_bytes()), expected, "{text}");
        }
    }

    #[test]
    fn invalid_utf8_in_strings_becomes_one_replacement_per_byte() {
        assert_eq!(repaired(b"[\"a\xffb\"]"), "[\"a\u{fffd}b\"]");
        // A truncated three-byte sequence: two bytes, two replacements (as Go's decoder does).
        assert_eq!(repaired(b"[\"\xe2\x82x\"]"), "[\"\u{fffd}\u{fffd}x\"]");
        // Surrogates encoded directly are not UTF-8 either.
        assert_eq!(
            repaired(b"[\"\xed\xa0\x80\"]"),
            "[\"\u{fffd}\u{fffd}\u{fffd}\"]"
        );
    }

    #[test]
    fn truncated_input_is_left_for_the_parser() {
        assert_eq!(repair(br#"{"x":"\ud9"#), br#"{"x":"\ud9"#.to_vec());
        assert_eq!(repair(br#"{"x":"\"#), br#"{"x":"\"#.to_vec());
        let err = parse_json::<serde_json::Map<String, Value>>(br#"{"x":"\ud9"#).unwrap_err();
        assert!(matches!(err, ApiError::BadJson(_)), "{err}");
    }

    #[test]
    fn decoding_follows_go() {
        #[derive(serde::Deserialize, Default, Debug, PartialEq)]
        #[serde(default)]
        struct Params {
            email: String,
        }
        let last: Params = parse_json(br#"{"email":"a@b.c","email":"d@e.f"}"#).unwrap();
        assert_eq!(last.email, "d@e.f");
        assert_eq!(parse_json::<Params>(b"null").unwrap(), Params::default());
        let err = parse_json::<Params>(b"").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Could not parse request body as JSON: unexpected end of JSON input"
        );
    }
}
