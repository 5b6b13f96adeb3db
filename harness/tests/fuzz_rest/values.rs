//! The pieces a generated data API request is made of: identifiers (the fixture's, unknown,
//! over-long, quoted, built to inject SQL), query values already percent-encoded (any Unicode,
//! NUL, lone surrogates as invalid UTF-8, integers at and past every bound, huge and empty),
//! and JSON text with NUL and surrogate escapes.

use proptest::prelude::*;

/// Integers at and past the bounds of `int4`, `int8` and `numeric`, and things that look
/// like numbers but are not.
pub fn bound_integer() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "0",
        "1",
        "-1",
        "2147483647",
        "2147483648",
        "-2147483648",
        "-2147483649",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775809",
        "18446744073709551616",
        "99999999999999999999999999999999999999",
        "1e400",
        "-0",
        "007",
        "+1",
        "1.5",
        "NaN",
        "Infinity",
        "0x10",
    ])
    .prop_map(str::to_owned)
}

/// Text built to end a literal or an identifier early and run SQL of its own.
fn injection() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "1;drop table items",
        "' or 1=1 --",
        "\") or true --",
        "1)or(1=1",
        "x\"; delete from items; --",
        "$1",
        "\\",
        "'",
        "\"",
        "*",
        "(",
        ")",
        ",",
        ".",
        "::",
        "->>",
        "pg_sleep(10)",
        "(select 1)",
        "id;select",
    ])
}

/// Percent-encodes every byte that is not unreserved, so the server sees exactly `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A query value, percent-encoded: what a filter, `limit` or `Range` gets.
pub fn query_value() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z0-9]{0,6}",
        3 => bound_integer(),
        3 => injection().prop_map(|s| encode(s.as_bytes())),
        3 => any::<String>().prop_map(|s| encode(s.as_bytes())),
        1 => Just("%00".to_owned()),
        1 => Just("a%00b".to_owned()),
        // U+D800 as UTF-8 would encode it: not UTF-8.
        1 => Just("%ED%A0%80".to_owned()),
        1 => Just("%C0%80".to_owned()),
        1 => Just("%FF%FE".to_owned()),
        1 => Just("%zz%".to_owned()),
        1 => (60usize..70).prop_map(|n| "a".repeat(n)),
        1 => (1usize..20_000).prop_map(|n| "x".repeat(n)),
        1 => Just(String::new()),
    ]
}

/// A column or relation name: the fixture's, unknown, over-long (past NAMEDATALEN's 63),
/// quoted, or hostile.
pub fn identifier() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::sample::select(vec![
            "id", "name", "qty", "title", "author_id", "year", "tags", "meta", "isbn", "price",
            "country", "owner", "body", "code", "a", "b", "stars", "value",
        ])
        .prop_map(str::to_owned),
        2 => "[a-z_]{1,8}",
        1 => (63usize..70).prop_map(|n| "c".repeat(n)),
        1 => Just("\"id\"".to_owned()),
        1 => Just("%22i%22%22d%22".to_owned()),
        2 => injection().prop_map(|s| encode(s.as_bytes())),
        1 => any::<String>().prop_map(|s| encode(s.as_bytes())),
        1 => Just("id%00".to_owned()),
        1 => Just(String::new()),
    ]
}

/// A piece of JSON string content, escaped as JSON text; may be invalid UTF-8.
fn string_piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => any::<char>().prop_map(|c| match c {
            '"' => b"\\\"".to_vec(),
            '\\' => b"\\\\".to_vec(),
            c if (c as u32) < 0x20 => format!("\\u{:04x}", c as u32).into_bytes(),
            c => c.to_string().into_bytes(),
        }),
        2 => "[a-z0-9 ]{1,8}".prop_map(String::into_bytes),
        2 => Just(b"\\u0000".to_vec()),
        2 => (0xd800u32..=0xdfff).prop_map(|unit| format!("\\u{unit:04x}").into_bytes()),
        1 => Just(b"\\ud83d\\ude00".to_vec()),
        1 => injection().prop_map(|s| s.replace('\\', "\\\\").replace('"', "\\\"").into_bytes()),
        1 => (0x80u8..=0xff).prop_map(|byte| vec![byte]),
    ]
}

fn json_string() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => prop::collection::vec(string_piece(), 0..8).prop_map(|p| p.concat()),
        1 => (1usize..40_000).prop_map(|n| vec![b'x'; n]),
    ]
    .prop_map(|content| [&b"\""[..], &content, b"\""].concat())
}

/// A JSON value of any kind, nested a little.
pub fn json_value() -> impl Strategy<Value = Vec<u8>> {
    let leaf = prop_oneof![
        4 => json_string(),
        3 => bound_integer().prop_map(String::into_bytes),
        1 => prop::sample::select(vec!["true", "false", "null", "[]", "{}"])
            .prop_map(|t| t.as_bytes().to_vec()),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4)
                .prop_map(|items| { [&b"["[..], &items.join(&b","[..]), b"]"].concat() }),
            prop::collection::vec((identifier(), inner), 0..4).prop_map(object),
        ]
    })
}

fn object(members: Vec<(String, Vec<u8>)>) -> Vec<u8> {
    let members: Vec<Vec<u8>> = members
        .into_iter()
        .map(|(key, value)| {
            let key = percent_decoded(&key)
                .replace('\\', "\\\\")
                .replace('"', "\\\"");
            [format!("\"{key}\":").into_bytes(), value].concat()
        })
        .collect();
    [&b"{"[..], &members.join(&b","[..]), b"}"].concat()
}

/// Identifiers are generated percent-encoded for the URL; in a body they are plain text.
fn percent_decoded(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// A request body: an object or an array of objects with the fixture's columns and others,
/// any JSON, bytes that are not JSON, empty, or huge.
pub fn body() -> impl Strategy<Value = Vec<u8>> {
    let row = prop::collection::vec((identifier(), json_value()), 0..5)
        .prop_map(object)
        .boxed();
    prop_oneof![
        5 => row.clone(),
        2 => prop::collection::vec(row, 0..4).prop_map(|rows| {
            [&b"["[..], &rows.join(&b","[..]), b"]"].concat()
        }),
        2 => json_value(),
        1 => prop::collection::vec(any::<u8>(), 0..64),
        1 => Just(Vec::new()),
        1 => Just(b"{\"id\": 1, \"id\": 2}".to_vec()),
        1 => (1usize..3).prop_map(|mib| [&b"\""[..], &vec![b'x'; mib << 20], b"\""].concat()),
    ]
}
