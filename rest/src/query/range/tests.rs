//! `limit`/`offset` per level and the `Range` header, PostgREST's arithmetic included.

use super::*;

/// `(offset, limit)`.
type Page = (Option<u64>, Option<u64>);

#[test]
fn limit_and_offset() {
    // (limit, offset) → (offset, limit)
    let cases: &[(Option<&str>, Option<&str>, Page)] = &[
        (Some("10"), None, (None, Some(10))),
        (None, Some("5"), (Some(5), None)),
        (Some("10"), Some("5"), (Some(5), Some(10))),
        (Some("0"), None, (None, Some(0))),
        // `readMaybe`: spaces and parentheses read; what does not read is no limit.
        (Some(" 7 "), None, (None, Some(7))),
        (Some("(7)"), None, (None, Some(7))),
        (Some("0x10"), None, (None, Some(16))),
        (Some("abc"), None, (None, None)),
        (Some("1.5"), None, (None, None)),
        (Some("+5"), None, (None, None)),
        (None, Some("abc"), (Some(0), None)),
        // RangeSpec: "succeeds if offset is negative as a no-op".
        (None, Some("-4"), (Some(0), None)),
        // With both keys an unreadable limit counts as 0: here the limit-zero page.
        (Some("abc"), Some("0"), (None, Some(0))),
        // A negative offset shifts the window: rows -4..=5 are rows 0..=5.
        (Some("10"), Some("-4"), (Some(0), Some(6))),
        (Some("3"), Some("-3"), (None, Some(0))),
    ];
    for &(limit, offset, want) in cases {
        assert_eq!(
            page(limit, offset),
            Ok(want),
            "limit={limit:?} offset={offset:?}"
        );
    }
}

#[test]
fn windows_that_end_before_they_start_are_416() {
    let negative = Err(ApiError::InvalidRange {
        details: Some("Limit should be greater than or equal to zero.".to_owned()),
    });
    // RangeSpec: limit=-1.
    assert_eq!(page(Some("-1"), None), negative);
    assert_eq!(page(Some("0"), Some("5")), negative);
    assert_eq!(page(Some("abc"), Some("5")), negative);
    assert_eq!(page(Some("2"), Some("-4")), negative);
}

#[test]
fn numbers_past_bigint_are_pgrst100() {
    let err = page(Some("99999999999999999999"), None).unwrap_err();
    assert_eq!(
        err,
        ApiError::ParseQuery {
            message: "\"failed to parse limit (99999999999999999999)\" (line 1, column 1)".into(),
            details: "unexpected \"99999999999999999999\" expecting an integer between 0 and 9223372036854775807".into(),
        }
    );
    assert!(page(None, Some("9223372036854775808")).is_err());
    assert_eq!(
        page(None, Some("9223372036854775807")),
        Ok((Some(9_223_372_036_854_775_807), None))
    );
    assert_eq!(
        page(Some("9223372036854775807"), Some("10")),
        Ok((Some(10), Some(9_223_372_036_854_775_807)))
    );
}

#[test]
fn range_headers() {
    type Rows = Option<(u64, Option<u64>)>;
    let cases: &[(&str, Rows)] = &[
        ("0-9", Some((0, Some(9)))),
        ("5-", Some((5, None))),
        ("007-010", Some((7, Some(10)))),
        ("3-3", Some((3, Some(3)))),
        // Not PostgREST's pattern: ignored.
        ("items=0-9", None),
        ("-5", None),
        ("0-9 ", None),
        ("a-b", None),
        ("1-2-3", None),
        ("", None),
        ("٣-٤", None),
    ];
    for &(value, want) in cases {
        let want = want.map(|(first, last)| RangeHeader { first, last });
        assert_eq!(range_header(value), Ok(want), "Range: {value}");
    }
    assert_eq!(
        range_header("5-2"),
        Err(ApiError::InvalidRange {
            details: Some(
                "The lower boundary must be lower than or equal to the upper boundary in the Range header."
                    .into()
            )
        })
    );
    assert_eq!(
        range_header("0-99999999999999999999"),
        Err(ApiError::ParseQuery {
            message: "\"failed to parse Range header (0-99999999999999999999)\" (line 1, column 3)".into(),
            details: "unexpected \"99999999999999999999\" expecting an integer between 0 and 9223372036854775807".into(),
        })
    );
}
