//! The session cookie as `@supabase/auth-helpers-nextjs` writes and reads it.
//!
//! The debrief's third failure lives here: the helpers read the `Cookie` header before anything
//! else, and a phantom cookie from the API client's jar stopped the request before the
//! `Authorization` header was ever looked at. We reproduce their formats faithfully (so a real
//! browser session works) and their error text (`Failed to parse cookie string: ...`), so the
//! `cookie-first` stage fails the way the team saw it fail.
//!
//! Formats: the value of `sb-<ref>-auth-token`, or the concatenation of the chunks
//! `sb-<ref>-auth-token.0`, `.1`, ... when it was too big for one cookie; optionally
//! `base64-` + base64url of the text; the text is JSON, either a session object
//! (`{"access_token": ...}`) or, in older helpers, an array `[access_token, refresh_token, ...]`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// Why the helpers gave up on the cookie. `Display` is the helpers' own message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Failed to parse cookie string: {cause}")]
pub struct CookieError {
    /// What went wrong, phrased as the JavaScript error the helpers would have caught.
    pub cause: String,
}

impl CookieError {
    fn new(cause: impl Into<String>) -> Self {
        Self {
            cause: cause.into(),
        }
    }
}

/// The tokens found in a well-formed session cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieSession {
    pub access_token: String,
    pub refresh_token: Option<String>,
}

/// Reads the session cookie named `name` from `Cookie` header values.
///
/// `Ok(None)` means there is no session cookie (or it holds `null`): the user is not signed in.
pub fn read_session<'a>(
    headers: impl IntoIterator<Item = &'a [u8]>,
    name: &str,
) -> Result<Option<CookieSession>, CookieError> {
    let pairs = parse_header(headers)?;
    let Some(raw) = assemble(&pairs, name)? else {
        return Ok(None);
    };
    let text = decode_base64_prefix(&raw)?;
    parse_session(&text)
}

/// Splits `Cookie` headers into `(name, raw value)` pairs. Anything that is not a cookie string
/// (no `=`, an empty name, bytes outside visible ASCII) is an error, as it is to the helpers.
fn parse_header<'a>(
    headers: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<(String, String)>, CookieError> {
    let mut pairs = Vec::new();
    for header in headers {
        let text = std::str::from_utf8(header)
            .map_err(|_| CookieError::new("TypeError: Cookie header is not valid UTF-8"))?;
        for pair in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((name, value)) = pair.split_once('=') else {
                return Err(CookieError::new(format!(
                    "TypeError: argument str must be a cookie string, got `{pair}`"
                )));
            };
            let name = name.trim();
            if name.is_empty() || !name.bytes().all(is_token_byte) {
                return Err(CookieError::new(format!(
                    "TypeError: invalid cookie name `{name}`"
                )));
            }
            // A DQUOTE-wrapped value loses its quotes, as in the `cookie` package.
            let value = value.trim();
            let value = match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                Some(unquoted) => unquoted,
                None => value,
            };
            pairs.push((name.to_owned(), value.to_owned()));
        }
    }
    Ok(pairs)
}

/// RFC 6265 cookie-name characters (an RFC 7230 token).
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The whole cookie value, URL-decoded: the plain cookie, else the chunks `.0`, `.1`, ... joined.
fn assemble(pairs: &[(String, String)], name: &str) -> Result<Option<String>, CookieError> {
    let find = |wanted: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == wanted)
            .map(|(_, v)| v.as_str())
    };
    if let Some(value) = find(name) {
        return decode_uri_component(value).map(Some);
    }
    let mut joined = String::new();
    let mut index = 0;
    while let Some(chunk) = find(&format!("{name}.{index}")) {
        joined.push_str(&decode_uri_component(chunk)?);
        index += 1;
    }
    Ok((index > 0).then_some(joined))
}

fn decode_uri_component(value: &str) -> Result<String, CookieError> {
    // decodeURIComponent rejects a `%` not followed by two hex digits; percent_decode passes it on.
    let bytes = value.as_bytes();
    for (at, _) in value.match_indices('%') {
        let hex = bytes.get(at + 1..at + 3);
        if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
            return Err(CookieError::new("URIError: URI malformed"));
        }
    }
    percent_encoding::percent_decode_str(value)
        .decode_utf8()
        .map(|text| text.into_owned())
        .map_err(|_| CookieError::new("URIError: URI malformed"))
}

/// Strips `base64-` and decodes the rest (base64url as the helpers write it; padded or standard
/// alphabet accepted too, as JavaScript decoders are lenient about both).
fn decode_base64_prefix(raw: &str) -> Result<String, CookieError> {
    let Some(encoded) = raw.strip_prefix("base64-") else {
        return Ok(raw.to_owned());
    };
    let normalised: String = encoded
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            other => other,
        })
        .collect();
    let bytes = URL_SAFE_NO_PAD
        .decode(normalised)
        .map_err(|e| CookieError::new(format!("InvalidCharacterError: invalid base64: {e}")))?;
    String::from_utf8(bytes)
        .map_err(|_| CookieError::new("TypeError: decoded base64 is not valid UTF-8"))
}

fn parse_session(text: &str) -> Result<Option<CookieSession>, CookieError> {
    let json: Value = serde_json::from_str(text).map_err(|e| {
        let start: String = text.chars().take(10).collect();
        CookieError::new(format!(
            "SyntaxError: \"{start}\"... is not valid JSON ({e})"
        ))
    })?;
    let string_at = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    match &json {
        Value::Null => Ok(None),
        Value::Object(session) => {
            Ok(
                string_at(session.get("access_token")).map(|access_token| CookieSession {
                    access_token,
                    refresh_token: string_at(session.get("refresh_token")),
                }),
            )
        }
        Value::Array(items) => {
            let access_token = string_at(items.first()).ok_or_else(|| {
                CookieError::new("TypeError: Cannot read properties of undefined (reading 'split')")
            })?;
            check_token_payload(&access_token)?;
            Ok(Some(CookieSession {
                access_token,
                refresh_token: string_at(items.get(1)),
            }))
        }
        Value::String(_) => Err(CookieError::new("Error: Unexpected format: String")),
        Value::Number(_) => Err(CookieError::new("Error: Unexpected format: Number")),
        Value::Bool(_) => Err(CookieError::new("Error: Unexpected format: Boolean")),
    }
}

/// The array form carries no user, so the helpers rebuild it from the token's payload; a
/// token whose payload is not base64url JSON fails there.
fn check_token_payload(token: &str) -> Result<(), CookieError> {
    let payload = token.split('.').nth(1).unwrap_or_default();
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| CookieError::new(format!("TypeError: invalid base64url in token: {e}")))?;
    serde_json::from_slice::<Value>(&bytes)
        .map(drop)
        .map_err(|e| CookieError::new(format!("SyntaxError: token payload is not JSON ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const NAME: &str = "sb-127-auth-token";
    const SESSION: &str =
        r#"{"access_token":"aaa.bbb.ccc","refresh_token":"r1","token_type":"bearer"}"#;

    fn read(header: &str) -> Result<Option<CookieSession>, CookieError> {
        read_session([header.as_bytes()], NAME)
    }

    fn session() -> Option<CookieSession> {
        Some(CookieSession {
            access_token: "aaa.bbb.ccc".into(),
            refresh_token: Some("r1".into()),
        })
    }

    fn url_encode(text: &str) -> String {
        percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
    }

    #[test]
    fn plain_json_session() {
        assert_eq!(read(&format!("other=1; {NAME}={SESSION}")), Ok(session()));
    }

    #[test]
    fn url_encoded_json_session() {
        assert_eq!(
            read(&format!("{NAME}={}", url_encode(SESSION))),
            Ok(session())
        );
    }

    #[test]
    fn base64_prefixed_session() {
        let encoded = URL_SAFE_NO_PAD.encode(SESSION);
        assert_eq!(read(&format!("{NAME}=base64-{encoded}")), Ok(session()));
        let padded = base64::engine::general_purpose::STANDARD.encode(SESSION);
        assert_eq!(read(&format!("{NAME}=base64-{padded}")), Ok(session()));
    }

    #[test]
    fn chunked_session_is_concatenated_in_order() {
        let encoded = format!("base64-{}", URL_SAFE_NO_PAD.encode(SESSION));
        let (first, second) = encoded.split_at(20);
        let header = format!("{NAME}.1={second}; {NAME}.0={first}");
        assert_eq!(read(&header), Ok(session()));
    }

    #[test]
    fn array_form_of_older_helpers() {
        let token = format!("h.{}.s", URL_SAFE_NO_PAD.encode(r#"{"sub":"u","exp":1}"#));
        let header = format!(r#"{NAME}=["{token}","r1",null,null,[]]"#);
        let expected = CookieSession {
            access_token: token,
            refresh_token: Some("r1".into()),
        };
        assert_eq!(read(&header), Ok(Some(expected)));
    }

    #[rstest]
    #[case::no_cookie_header("")]
    #[case::other_cookies_only("theme=dark; lang=en")]
    #[case::null_session("sb-127-auth-token=null")]
    #[case::object_without_token(r#"sb-127-auth-token={"user":{}}"#)]
    fn no_session_means_signed_out(#[case] header: &str) {
        assert_eq!(read(header), Ok(None));
    }

    #[rstest]
    #[case::bare_jwt_not_json("sb-127-auth-token=eyJhbGciOiJIUzI1NiJ9.e30.sig", "SyntaxError")]
    #[case::bad_base64("sb-127-auth-token=base64-!!!not-base64", "invalid base64")]
    #[case::base64_of_garbage("sb-127-auth-token=base64-aGVsbG8", "SyntaxError")]
    #[case::bad_percent_encoding("sb-127-auth-token=%E0%A4%A", "URI malformed")]
    #[case::not_a_cookie_string("garbage-without-equals", "cookie string")]
    #[case::empty_name("=value", "invalid cookie name")]
    #[case::json_string("sb-127-auth-token=%22just%20a%20string%22", "Unexpected format")]
    #[case::empty_array("sb-127-auth-token=[]", "Cannot read properties")]
    #[case::array_with_opaque_token(r#"sb-127-auth-token=["opaque","r1"]"#, "token payload")]
    fn malformed_cookies_give_the_helpers_error(#[case] header: &str, #[case] cause: &str) {
        let error = read(header).expect_err("a malformed cookie must not parse");
        assert!(
            error
                .to_string()
                .starts_with("Failed to parse cookie string: "),
            "{error}"
        );
        assert!(
            error.cause.contains(cause),
            "cause `{}` lacks `{cause}`",
            error.cause
        );
    }

    #[test]
    fn invalid_utf8_header_is_malformed() {
        let error = read_session([&b"sb-127-auth-token=\xff"[..]], NAME).unwrap_err();
        assert!(error.cause.contains("UTF-8"));
    }
}
