//! Pulling the token out of `Authorization`, with GoTrue's `(?i)^bearer (\S+$)`.
//!
//! The scheme is matched case-insensitively (GoTrue ≥ v2.187.0), exactly one space must follow,
//! and the token is a single run of non-space characters reaching the end of the value. RE2's
//! `\s` is ASCII `[\t\n\f\r ]`, so that is the set excluded here.

use axum::http::HeaderMap;

use crate::error::ApiError;

/// The bearer token in `headers`, or 401 `no_authorization`.
pub fn token(headers: &HeaderMap) -> Result<&str, ApiError> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
        .and_then(parse)
        .ok_or(ApiError::NoAuthorization)
}

/// Applies the regexp to a header value.
pub fn parse(value: &str) -> Option<&str> {
    let scheme = value.get(..7)?;
    if !scheme[..6].eq_ignore_ascii_case("bearer") || !scheme.ends_with(' ') {
        return None;
    }
    let token = &value[7..];
    let is_space = |c: char| matches!(c, '\t' | '\n' | '\x0c' | '\r' | ' ');
    (!token.is_empty() && !token.contains(is_space)).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn accepts_any_case_and_one_space() {
        assert_eq!(parse("Bearer abc.def.ghi"), Some("abc.def.ghi"));
        assert_eq!(parse("bearer x"), Some("x"));
        assert_eq!(parse("BEARER x"), Some("x"));
        assert_eq!(parse("bEaReR x"), Some("x"));
    }

    #[test]
    fn rejects_everything_else() {
        for value in [
            "",
            "Bearer",
            "Bearer ",
            "Bearer  x",
            "Bearer x y",
            "Bearer x ",
            "Bearer\tx",
            "Basic x",
            "Token x",
            "Bearerx",
            "xBearer x",
            "Bearer x\t",
        ] {
            assert_eq!(parse(value), None, "{value:?}");
        }
    }

    #[test]
    fn token_may_hold_any_non_space() {
        assert_eq!(parse("Bearer a.b.c-_=+/é"), Some("a.b.c-_=+/é"));
    }
}
