//! `ban_duration` on the admin API: `"none"` lifts a ban, anything else is a Go duration
//! (`time.ParseDuration`: `"24h"`, `"1h30m"`, `"-5m"`) added to now.
//!
//! The parser follows Go's rules exactly, including the errors and their text, because GoTrue
//! passes Go's message through ("invalid format for ban duration: time: invalid duration
//! \"1d\""); durations past Go's ±2^63 ns are Go's errors too, never an overflow here.

use chrono::{DateTime, Utc};

use super::go_quote;
use crate::error::ApiError;

/// What the admin asked for: `None`, leave the ban as it is; `Some(None)`, lift it;
/// `Some(Some(t))`, banned until t.
pub fn until(
    duration: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<Option<DateTime<Utc>>>, ApiError> {
    match duration {
        None | Some("") => Ok(None),
        Some("none") => Ok(Some(None)),
        Some(text) => {
            let nanos = parse_go_duration(text).map_err(|reason| {
                ApiError::Validation(format!("invalid format for ban duration: {reason}"))
            })?;
            // Within ±292 years of now, so always a representable instant.
            Ok(Some(
                now.checked_add_signed(chrono::Duration::nanoseconds(nanos)),
            ))
        }
    }
}

/// Go's `time.ParseDuration`, in nanoseconds, or Go's error message.
pub fn parse_go_duration(text: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {}", go_quote::time(text));
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    const LIMIT: u64 = 1 << 63;
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let first = rest.as_bytes()[0];
        if !(first == b'.' || first.is_ascii_digit()) {
            return Err(invalid());
        }
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let whole = leading_int(&rest[..digits]).ok_or_else(invalid)?;
        rest = &rest[digits..];
        let (mut fraction, mut scale, mut fraction_digits) = (0u64, 1f64, 0);
        if let Some(after_dot) = rest.strip_prefix('.') {
            fraction_digits = after_dot.bytes().take_while(u8::is_ascii_digit).count();
            (fraction, scale) = leading_fraction(&after_dot[..fraction_digits]);
            rest = &after_dot[fraction_digits..];
        }
        if digits == 0 && fraction_digits == 0 {
            return Err(invalid());
        }
        let unit_len = rest
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(rest.len());
        if unit_len == 0 {
            return Err(format!(
                "time: missing unit in duration {}",
                go_quote::time(text)
            ));
        }
        let unit_name = &rest[..unit_len];
        rest = &rest[unit_len..];
        let unit: u64 = match unit_name {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    go_quote::time(unit_name),
                    go_quote::time(text)
                ));
            }
        };
        if whole > LIMIT / unit {
            return Err(invalid());
        }
        let mut value = whole * unit;
        if fraction > 0 {
            value += (fraction as f64 * (unit as f64 / scale)) as u64;
            if value > LIMIT {
                return Err(invalid());
            }
        }
        total += value;
        if total > LIMIT {
            return Err(invalid());
        }
    }
    if negative {
        // -2^63 is the one value whose magnitude is not an i64.
        return Ok(0i64.wrapping_sub_unsigned(total));
    }
    i64::try_from(total).map_err(|_| invalid())
}

/// Go's `leadingInt`: the digits as a number, `None` past 2^63.
fn leading_int(digits: &str) -> Option<u64> {
    let mut n: u64 = 0;
    for byte in digits.bytes() {
        if n > (1 << 63) / 10 {
            return None;
        }
        n = n * 10 + u64::from(byte - b'0');
        if n > 1 << 63 {
            return None;
        }
    }
    Some(n)
}

/// Go's `leadingFraction`: the digits kept before overflow, and ten to their count.
fn leading_fraction(digits: &str) -> (u64, f64) {
    let (mut n, mut scale) = (0u64, 1f64);
    for byte in digits.bytes() {
        if n > ((1 << 63) - 1) / 10 {
            break;
        }
        let next = n * 10 + u64::from(byte - b'0');
        if next > 1 << 63 {
            break;
        }
        n = next;
        scale *= 10.0;
    }
    (n, scale)
}

#[cfg(test)]
mod tests {
    use super::parse_go_duration as p;

    #[test]
    fn go_durations_parse() {
        assert_eq!(p("24h"), Ok(24 * 3_600_000_000_000));
        assert_eq!(p("1h30m"), Ok(90 * 60_000_000_000));
        assert_eq!(p("1.5s"), Ok(1_500_000_000));
        assert_eq!(p(".5s"), Ok(500_000_000));
        assert_eq!(p("5.s"), Ok(5_000_000_000));
        assert_eq!(p("-5m"), Ok(-300_000_000_000));
        assert_eq!(p("0"), Ok(0));
        assert_eq!(p("+0"), Ok(0));
        assert_eq!(p("1\u{b5}s"), Ok(1_000));
        assert_eq!(p("9223372036854775807ns"), Ok(i64::MAX));
        assert_eq!(p("-9223372036854775808ns"), Ok(i64::MIN));
    }

    #[test]
    fn go_errors_are_go_s_words() {
        assert_eq!(
            p("1d").unwrap_err(),
            r#"time: unknown unit "d" in duration "1d""#
        );
        assert_eq!(
            p("24").unwrap_err(),
            r#"time: missing unit in duration "24""#
        );
        // The unit runs to the next digit or dot, spaces included.
        assert_eq!(
            p("1h x").unwrap_err(),
            r#"time: unknown unit "h x" in duration "1h x""#
        );
        for bad in [
            "",
            "h",
            ".",
            "-",
            "9223372036854775808ns",
            "2562048h",
            "99999999999999999999h",
        ] {
            assert_eq!(
                p(bad).unwrap_err(),
                format!("time: invalid duration {}", super::go_quote::time(bad)),
                "{bad:?}"
            );
        }
    }
}
