//! Splitting, decoding and the `Content-Location` form.

use super::*;

type Pairs = Vec<(String, Option<String>)>;

fn pairs(query: &str) -> Pairs {
    decode(split(query))
        .unwrap()
        .into_iter()
        .map(|p| (p.key, p.value))
        .collect()
}

fn kv(k: &str, v: Option<&str>) -> (String, Option<String>) {
    (k.to_owned(), v.map(str::to_owned))
}

#[test]
fn splitting_and_decoding() {
    let cases: Vec<(&str, Pairs)> = vec![
        ("", vec![]),
        ("a=1&b=2", vec![kv("a", Some("1")), kv("b", Some("2"))]),
        ("a=1;b=2", vec![kv("a", Some("1")), kv("b", Some("2"))]),
        ("a", vec![kv("a", None)]),
        ("a=", vec![kv("a", Some(""))]),
        ("a=1&", vec![kv("a", Some("1"))]),
        (
            "a=1&&b=2",
            vec![kv("a", Some("1")), kv("", None), kv("b", Some("2"))],
        ),
        ("a=b=c", vec![kv("a", Some("b=c"))]),
        ("name=eq.a+b", vec![kv("name", Some("eq.a b"))]),
        ("name=eq.a%2Bb", vec![kv("name", Some("eq.a+b"))]),
        ("in=%28%22a%2Cb%22%29", vec![kv("in", Some("(\"a,b\")"))]),
        // Invalid percent-encoding stays as written (http-types' urlDecode).
        ("a=%zz%4", vec![kv("a", Some("%zz%4"))]),
        ("a=%", vec![kv("a", Some("%"))]),
        ("a=%00", vec![kv("a", Some("\0"))]),
        ("%C3%B1=%E2%82%AC", vec![kv("ñ", Some("€"))]),
        ("ñ=€", vec![kv("ñ", Some("€"))]),
    ];
    for (query, want) in cases {
        assert_eq!(pairs(query), want, "{query}");
    }
}

#[test]
fn bytes_that_are_not_utf8_are_pgrst100() {
    let err = decode(split("a=eq.x%ED%A0%80")).unwrap_err();
    assert_eq!(
        err,
        ApiError::ParseQuery {
            message: "\"failed to parse query parameter (eq.x\u{FFFD}\u{FFFD}\u{FFFD})\" (line 1, column 5)".into(),
            details: "unexpected byte 0xED expecting UTF-8 text (percent-encode the parameter's UTF-8 bytes)".into(),
        }
    );
    assert!(decode(split("%FF=1")).is_err());
}

#[test]
fn canonical_form_sorts_keys_and_encodes_as_postgrest() {
    let cases: &[(&str, &str)] = &[
        // PostgREST's doctest: `a=1&c=3&b=2&d` → `a=1&b=2&c=3&d=`.
        ("a=1&c=3&b=2&d", "a=1&b=2&c=3&d="),
        ("select=id,name&id=eq.1", "id=eq.1&select=id%2Cname"),
        ("b=2&a=1&b=1", "a=1&b=2,1"),
        ("name=eq.a+b", "name=eq.a%20b"),
        ("x=~-_.*()!", "x=~-_.%2A%28%29%21"),
        ("ñ=1", "%C3%B1=1"),
        ("", ""),
    ];
    for (query, want) in cases {
        assert_eq!(canonical(&split(query)), *want, "{query}");
    }
}
