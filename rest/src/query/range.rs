//! Pages: `limit`/`offset` (on any embed level) and the `Range: N-M` header.
//!
//! PostgREST reads both with `readMaybe` (what does not read is ignored, never an error) and
//! combines them as ranges of row numbers, with consequences kept here on purpose: with both
//! keys, an unreadable `limit` counts as 0; a negative `offset` shifts the window instead of
//! failing; a window that ends before it starts is 416 PGRST103 "Limit should be greater than
//! or equal to zero.", except one that ends at row -1 (`limit=0`), which is an empty page.
//! Values past PostgreSQL's bigint are a PGRST100 here (PostgREST would pass them on and fail
//! in PostgreSQL).

use crate::ApiError;

use super::ast::RangeHeader;
use super::parsec::error::haskell_strip;
use super::parsec::show_string;

/// What `readMaybe` makes of a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Read {
    Unreadable,
    Value(i128),
    /// Readable, but past 128 bits.
    Huge,
}

/// Haskell's `readMaybe :: String -> Maybe Integer`: spaces around, parentheses, `-`, and
/// decimal, `0x` hexadecimal or `0o` octal digits.
fn read_integer(text: &str) -> Read {
    let mut t = haskell_strip(text);
    while let Some(inner) = t.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        t = haskell_strip(inner);
    }
    let (negative, body) = match t.strip_prefix('-') {
        Some(rest) => (true, haskell_strip(rest)),
        None => (false, t),
    };
    let (digits, radix) = match body.get(..2) {
        Some("0x" | "0X") => (&body[2..], 16),
        Some("0o" | "0O") => (&body[2..], 8),
        _ => (body, 10),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Read::Unreadable;
    }
    match i128::from_str_radix(digits, radix) {
        Ok(n) => Read::Value(if negative { -n } else { n }),
        Err(_) => Read::Huge,
    }
}

/// The largest row number or count PostgreSQL's bigint `LIMIT`/`OFFSET` takes.
const MAX: i128 = i64::MAX as i128;

fn too_big(key: &str, text: &str) -> ApiError {
    ApiError::ParseQuery {
        message: format!("\"failed to parse {key} ({text})\" (line 1, column 1)"),
        details: format!(
            "unexpected {} expecting an integer between 0 and {MAX}",
            show_string(text)
        ),
    }
}

fn negative_limit() -> ApiError {
    ApiError::InvalidRange {
        details: Some("Limit should be greater than or equal to zero.".to_owned()),
    }
}

/// One level's page from its `limit` and `offset` texts: `(offset, limit)`, each None when
/// it does not restrict.
pub(crate) fn page(
    limit: Option<&str>,
    offset: Option<&str>,
) -> Result<(Option<u64>, Option<u64>), ApiError> {
    let read = |key: &str, text: &str| match read_integer(text) {
        Read::Huge => Err(too_big(key, text)),
        Read::Value(n) if n.abs() > MAX => Err(too_big(key, text)),
        other => Ok(other),
    };
    let limit_read = limit.map(|t| read("limit", t)).transpose()?;
    let offset_read = offset.map(|t| read("offset", t)).transpose()?;
    // Rows `lower..=upper` as PostgREST's `ranges` builds them.
    let (lower, upper): (i128, Option<i128>) = match (limit_read, offset_read) {
        (None, None) => return Ok((None, None)),
        (Some(Read::Value(l)), None) => (0, Some(l - 1)),
        (Some(_), None) => (0, None),
        (None, Some(Read::Value(o))) => (o, None),
        (None, Some(_)) => (0, None),
        (Some(l), Some(o)) => {
            let l = if let Read::Value(l) = l { l } else { 0 };
            let o = if let Read::Value(o) = o { o } else { 0 };
            (o, Some(o + l - 1))
        }
    };
    let offset_out = |lo: i128| offset.map(|_| lo.max(0) as u64);
    match upper {
        // The limit-zero window (`limit=0`): an empty page, not an error.
        Some(-1) => Ok((None, Some(0))),
        Some(u) if u < lower.max(0) => Err(negative_limit()),
        Some(u) => {
            let lo = lower.max(0);
            let count = u - lo + 1;
            if count > MAX {
                return Err(too_big("limit", limit.unwrap_or_default()));
            }
            Ok((offset_out(lo), Some(count as u64)))
        }
        None => Ok((offset_out(lower), None)),
    }
}

/// `^([0-9]+)-([0-9]*)$`, else None.
pub(crate) fn range_header(value: &str) -> Result<Option<RangeHeader>, ApiError> {
    let Some((first, last)) = value.split_once('-') else {
        return Ok(None);
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if first.is_empty() || !digits(first) || !digits(last) {
        return Ok(None);
    }
    let number = |text: &str, column: usize| -> Result<u64, ApiError> {
        let trimmed = text.trim_start_matches('0');
        match trimmed.parse::<u64>() {
            Ok(n) if i128::from(n) <= MAX => Ok(n),
            _ if trimmed.is_empty() => Ok(0),
            _ => Err(ApiError::ParseQuery {
                message: format!(
                    "\"failed to parse Range header ({value})\" (line 1, column {column})"
                ),
                details: format!(
                    "unexpected {} expecting an integer between 0 and {MAX}",
                    show_string(text)
                ),
            }),
        }
    };
    let first_row = number(first, 1)?;
    let last_row = if last.is_empty() {
        None
    } else {
        Some(number(last, first.len() + 2)?)
    };
    if last_row.is_some_and(|l| l < first_row) {
        return Err(ApiError::InvalidRange {
            details: Some(
                "The lower boundary must be lower than or equal to the upper boundary in the Range header."
                    .to_owned(),
            ),
        });
    }
    Ok(Some(RangeHeader {
        first: first_row,
        last: last_row,
    }))
}

#[cfg(test)]
mod tests;
