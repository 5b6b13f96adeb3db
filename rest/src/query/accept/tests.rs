//! `Accept`: the order wai-extra sorts in, and PostgREST's decoding (MediaType.hs doctests).

use super::*;

#[test]
fn decoding() {
    let cases: &[(&str, &str)] = &[
        ("application/json", "application/json"),
        (
            "ApplicatIon/vnd.PgRsT.object+json",
            "application/vnd.pgrst.object+json",
        ),
        (
            "application/vnd.pgrst.object+json;nulls=stripped",
            "application/vnd.pgrst.object+json;nulls=stripped",
        ),
        (
            "application/vnd.pgrst.array+json;nulls=stripped",
            "application/vnd.pgrst.array+json;nulls=stripped",
        ),
        ("application/vnd.pgrst.array+json", "application/json"),
        (
            "application/vnd.pgrst.plan;",
            "application/vnd.pgrst.plan+text; for=\"application/json\"",
        ),
        (
            "application/vnd.pgrst.plan ; for=\"text/xml\" ; options=analyze",
            "application/vnd.pgrst.plan+text; for=\"text/xml\"; options=analyze",
        ),
        (
            "application/vnd.pgrst.plan+json;for=\"text/csv\"",
            "application/vnd.pgrst.plan+json; for=\"text/csv\"",
        ),
        ("application/vnd.twkb", "application/vnd.twkb"),
        ("*/*", "*/*"),
        ("application/*", "application/*"),
        ("text/csv", "text/csv"),
    ];
    for (text, mime) in cases {
        assert_eq!(decode(text).mime(), *mime, "{text}");
    }
}

#[test]
fn best_first() {
    let cases: &[(Option<&str>, &[MediaType])] = &[
        (None, &[MediaType::Json]),
        (Some("*/*"), &[MediaType::Json]),
        (
            Some("application/vnd.pgrst.object+json"),
            &[MediaType::SingleObject { strip_nulls: false }],
        ),
        (
            Some("text/csv;q=0.5, application/json"),
            &[MediaType::Json, MediaType::Csv],
        ),
        // Equal q: the more specific first (`;` count minus `*` count), then header order.
        (
            Some("*/*, application/vnd.pgrst.array+json;nulls=stripped, text/csv"),
            &[
                MediaType::Array { strip_nulls: true },
                MediaType::Csv,
                MediaType::Json,
            ],
        ),
        // q=0 is not refused, only sorted last.
        (
            Some("text/csv;q=0, application/geo+json"),
            &[MediaType::GeoJson, MediaType::Csv],
        ),
        (
            Some("text/html, application/json;q=0.1"),
            &[MediaType::Json],
        ),
        (Some("text/plain"), &[MediaType::Raw(RawMedia::TextPlain)]),
        (
            Some(
                "application/vnd.pgrst.plan+text; for=\"application/json\"; options=analyze|verbose",
            ),
            &[MediaType::Plan],
        ),
    ];
    for (header, want) in cases {
        assert_eq!(producible(*header), *want, "Accept: {header:?}");
    }
}

#[test]
fn what_was_asked_is_named_for_pgrst107() {
    assert_eq!(
        asked(Some("text/unknowntype")),
        vec!["text/unknowntype".to_owned()]
    );
    assert_eq!(
        asked(Some("text/html;q=0.9, application/xhtml+xml")),
        vec!["application/xhtml+xml".to_owned(), "text/html".to_owned()]
    );
    assert!(producible(Some("text/html, application/*")).is_empty());
    // An empty header asks for nothing at all, so nothing is acceptable.
    assert!(producible(Some("")).is_empty());
    assert_eq!(asked(Some("")), Vec::<String>::new());
}

#[test]
fn q_values_read_as_haskell_reads_a_double() {
    let cases: &[(&str, f64)] = &[
        ("0.5", 0.5),
        ("1", 1.0),
        ("0", 0.0),
        ("0.5abc", 0.5),
        ("abc", 1.0),
        (".5", 1.0),
        ("1e-1", 0.1),
        ("-1", -1.0),
        ("", 1.0),
    ];
    for (text, want) in cases {
        assert_eq!(read_q(text), *want, "q={text}");
    }
}
