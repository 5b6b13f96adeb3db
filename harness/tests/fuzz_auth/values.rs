//! The values a generated request is made of: JSON text (any Unicode, NUL and lone surrogate
//! escapes, invalid UTF-8, integers at and past every bound, long and empty strings), query
//! values (escaped hostile text, separators, bad escapes), credentials, path ids, header text
//! and content types.

use proptest::prelude::*;

use super::requests::{Body, Credential, Endpoint, PathId};

/// Integers at and past the bounds that matter: 0, ±1, the 255 of varchar columns, i64 and
/// u64 and one past each, and numbers JSON allows but no integer type holds.
fn bound_integers() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "0",
        "1",
        "-1",
        "2",
        "50",
        "255",
        "256",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "18446744073709551615",
        "18446744073709551616",
        "99999999999999999999999999",
        "007",
        "+1",
        "1e3",
        "1.5",
        "1e400",
        "-0",
    ])
    .prop_map(str::to_owned)
}

/// A piece of JSON string content, already escaped as JSON text (bytes: may be invalid UTF-8).
fn string_piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => any::<char>().prop_map(|c| match c {
            '"' => b"\\\"".to_vec(),
            '\\' => b"\\\\".to_vec(),
            c if (c as u32) < 0x20 => format!("\\u{:04x}", c as u32).into_bytes(),
            c => c.to_string().into_bytes(),
        }),
        2 => "[a-z0-9@._+-]{1,8}".prop_map(String::into_bytes),
        1 => Just(b"\\u0000".to_vec()),
        1 => (0xd800u32..=0xdfff).prop_map(|unit| format!("\\u{unit:04x}").into_bytes()),
        1 => Just(b"\\ud83d\\ude00".to_vec()),
        1 => prop::sample::select(vec![&b"\\n"[..], b"\\t", b"\\/", b"\\u00e9", b"\\x", b"\\u12"])
            .prop_map(<[u8]>::to_vec),
        1 => (0x80u8..=0xff).prop_map(|byte| vec![byte]),
        1 => Just(vec![0x01]),
    ]
}

/// JSON string content: short, empty, long past varchar(255), or a run of tens of KiB.
fn string_content() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => prop::collection::vec(string_piece(), 0..12).prop_map(|pieces| pieces.concat()),
        1 => Just(Vec::new()),
        1 => (250usize..=260).prop_map(|n| vec![b'a'; n]),
        1 => (1usize..70_000).prop_map(|n| vec![b'x'; n]),
    ]
}

fn json_string() -> impl Strategy<Value = Vec<u8>> {
    string_content().prop_map(|content| [&b"\""[..], &content, b"\""].concat())
}

/// A JSON value of any kind, nested a little.
fn json_value() -> impl Strategy<Value = Vec<u8>> {
    let leaf = prop_oneof![
        4 => json_string(),
        2 => bound_integers().prop_map(String::into_bytes),
        1 => prop::sample::select(vec!["true", "false", "null"]).prop_map(|t| t.as_bytes().to_vec()),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|items| [
                &b"["[..],
                &items.join(&b","[..]),
                b"]"
            ]
            .concat()),
            prop::collection::vec((json_string(), inner), 0..4).prop_map(|pairs| {
                let members: Vec<Vec<u8>> = pairs
                    .into_iter()
                    .map(|(k, v)| [k, b":".to_vec(), v].concat())
                    .collect();
                [&b"{"[..], &members.join(&b","[..]), b"}"].concat()
            }),
        ]
    })
}

/// A value GoTrue would accept for a named field (`{unique}` and friends are filled in when the
/// request is sent).
fn plausible_value(field: &'static str) -> BoxedStrategy<Vec<u8>> {
    let quoted = |texts: Vec<&'static str>| {
        prop::sample::select(texts)
            .prop_map(|text| format!("\"{text}\"").into_bytes())
            .boxed()
    };
    match field {
        "email" => quoted(vec![
            "fuzz-{unique}@example.test",
            "{self_email}",
            "FUZZ-{unique}@Example.Test",
        ]),
        "password" => quoted(vec!["{self_password}", "fuzz-password-1"]),
        "refresh_token" => "[a-z0-9]{12}"
            .prop_map(|t| format!("\"{t}\"").into_bytes())
            .boxed(),
        "id" => quoted(vec!["{uuid}"]),
        "ban_duration" => quoted(vec!["none", "24h", "1h30m", "-5m", "0", ".5s", "2562047h"]),
        "role" => quoted(vec!["authenticated", "service_role", "anon"]),
        "aud" => quoted(vec!["authenticated", "other-audience"]),
        "data" | "user_metadata" | "app_metadata" => "[a-z]{1,6}"
            .prop_map(|v| format!("{{\"plan\":\"{v}\",\"n\":1}}").into_bytes())
            .boxed(),
        "email_confirm" | "should_soft_delete" => prop::sample::select(vec!["true", "false"])
            .prop_map(|t| t.as_bytes().to_vec())
            .boxed(),
        _ => quoted(vec![""]),
    }
}

/// A value built to be refused, or to be stored oddly: any JSON, hostile text, or the wrong type.
pub(super) fn hostile_value(field: &'static str) -> BoxedStrategy<Vec<u8>> {
    match field {
        "data" | "user_metadata" | "app_metadata" => prop_oneof![
            3 => json_object(),
            1 => json_value(),
        ]
        .boxed(),
        _ => prop_oneof![
            3 => json_string(),
            1 => json_value(),
        ]
        .boxed(),
    }
}

/// A JSON object of hostile keys and values.
fn json_object() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec((json_string(), json_value()), 0..4).prop_map(|pairs| {
        let members: Vec<Vec<u8>> = pairs
            .into_iter()
            .map(|(k, v)| [k, b":".to_vec(), v].concat())
            .collect();
        [&b"{"[..], &members.join(&b","[..]), b"}"].concat()
    })
}

fn json_body(endpoint: Endpoint) -> BoxedStrategy<Vec<u8>> {
    let fields = endpoint.fields();
    if fields.is_empty() {
        return json_object().boxed();
    }
    // Half the bodies are what a client would send with at most one field spoiled, so the
    // hostile value meets the code behind the first check; the rest are hostile throughout.
    // Now and then a field is repeated, or an unknown one added.
    let plausible = fields
        .iter()
        .map(|field| {
            prop::option::weighted(0.8, plausible_value(field).prop_map(move |v| (*field, v)))
        })
        .collect::<Vec<_>>();
    let spoiled = (0..fields.len()).prop_flat_map(move |at| {
        hostile_value(fields[at]).prop_map(move |value| Some((at, value)))
    });
    let wild = fields
        .iter()
        .map(|field| {
            prop::option::weighted(
                0.6,
                prop_oneof![plausible_value(field), hostile_value(field)]
                    .prop_map(move |v| (*field, v)),
            )
        })
        .collect::<Vec<_>>();
    let mostly_plausible =
        (plausible, prop_oneof![Just(None), spoiled]).prop_map(move |(mut members, spoil)| {
            if let Some((at, value)) = spoil {
                members[at] = Some((fields[at], value));
            }
            members
        });
    (
        prop_oneof![mostly_plausible.boxed(), wild.boxed()],
        prop::option::weighted(0.1, 0..fields.len()),
        prop::bool::weighted(0.1),
    )
        .prop_map(move |(members, repeat, unknown)| {
            let mut parts: Vec<Vec<u8>> = members
                .into_iter()
                .flatten()
                .map(|(k, v)| [format!("\"{k}\":").into_bytes(), v].concat())
                .collect();
            if let Some(index) = repeat {
                parts.push(format!("\"{}\":\"repeated\"", fields[index]).into_bytes());
            }
            if unknown {
                parts.push(b"\"extra\":1".to_vec());
            }
            [&b"{"[..], &parts.join(&b","[..]), b"}"].concat()
        })
        .boxed()
}

pub(super) fn body(endpoint: Endpoint) -> impl Strategy<Value = Body> {
    prop_oneof![
        12 => json_body(endpoint).prop_map(Body::Json),
        2 => Just(Body::None),
        1 => Just(Body::Json(b"null".to_vec())),
        1 => Just(Body::Json(b"  ".to_vec())),
        2 => prop::collection::vec(any::<u8>(), 0..200).prop_map(Body::Raw),
        1 => prop::sample::select(vec![&b"{"[..], b"[]", b"\"text\"", b"{\"email\":}", b"grant_type=password"])
            .prop_map(|b| Body::Raw(b.to_vec())),
        1 => prop::sample::select(vec![(1 << 20) - 64, (1 << 20) + 1, (1 << 20) + 4096]).prop_map(Body::Huge),
    ]
}

/// A query value: plausible, a bound integer, or escaped hostile text (`%00`, `%FF`, a bad
/// escape, separators).
pub(super) fn query_value(parameter: &'static str) -> BoxedStrategy<String> {
    let plausible: BoxedStrategy<String> = match parameter {
        "grant_type" => {
            prop::sample::select(vec!["password", "refresh_token", "pkce", "id_token", ""])
                .prop_map(str::to_owned)
                .boxed()
        }
        "scope" => prop::sample::select(vec!["global", "local", "others", ""])
            .prop_map(str::to_owned)
            .boxed(),
        "sort" => prop::sample::select(vec![
            "created_at",
            "created_at+asc",
            "created_at%20DESC",
            "email",
            "created_at+up",
        ])
        .prop_map(str::to_owned)
        .boxed(),
        "filter" => "[a-z@.%_]{0,6}".boxed(),
        _ => bound_integers().boxed(),
    };
    prop_oneof![
        4 => plausible,
        2 => bound_integers(),
        2 => prop::collection::vec(
            prop_oneof![
                4 => any::<char>().prop_map(|c| c.to_string().bytes().map(|b| format!("%{b:02X}")).collect::<String>()),
                1 => prop::sample::select(vec!["%00", "%FF", "%zz", "%4", ";", "+", "&x", "="]).prop_map(str::to_owned),
            ],
            0..6,
        )
        .prop_map(|pieces| pieces.concat()),
    ]
    .boxed()
}

pub(super) fn query(endpoint: Endpoint) -> BoxedStrategy<Vec<(String, String)>> {
    let parameters = endpoint.parameters();
    let known = parameters
        .iter()
        .map(|name| {
            let value = query_value(name).prop_map(move |v| (name.to_string(), v));
            prop_oneof![
                3 => value.clone().prop_map(|pair| vec![pair]),
                1 => prop::collection::vec(value, 0..4),
            ]
        })
        .collect::<Vec<_>>();
    (known, prop::option::weighted(0.1, "[a-z_]{1,8}"))
        .prop_map(|(known, extra)| {
            let mut pairs: Vec<(String, String)> = known.into_iter().flatten().collect();
            if let Some(name) = extra {
                pairs.push((name, "x".into()));
            }
            pairs
        })
        .boxed()
}

fn leaf_credential() -> impl Strategy<Value = Credential> {
    prop_oneof![
        3 => Just(Credential::Admin),
        3 => Just(Credential::User),
        2 => Just(Credential::None),
        1 => Just(Credential::Anon),
        1 => prop::collection::vec(
            prop_oneof![8 => 0x20u8..=0x7e, 1 => Just(b'\t'), 1 => 0x80u8..=0xff],
            0..80,
        )
        .prop_map(Credential::Raw),
    ]
}

pub(super) fn credential() -> impl Strategy<Value = Credential> {
    prop_oneof![
        9 => leaf_credential(),
        1 => (leaf_credential(), leaf_credential())
            .prop_map(|(a, b)| Credential::Both(Box::new(a), Box::new(b))),
    ]
}

pub(super) fn path_id() -> impl Strategy<Value = PathId> {
    prop_oneof![
        5 => Just(PathId::Victim),
        2 => any::<u128>().prop_map(PathId::Random),
        1 => Just(PathId::Nil),
        2 => prop::sample::select(vec!["nope", "%FF", "%00", "a%2Fb", "{victim}x", "%7Bvictim%7D", "urn:uuid:{victim}"])
            .prop_map(|t| PathId::Text(t.to_owned())),
    ]
}

pub(super) fn header_text() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => "[ -~]{0,20}".prop_map(String::into_bytes),
        1 => (250usize..=300).prop_map(|n| vec![b'a'; n]),
        1 => prop::collection::vec(0x80u8..=0xff, 1..6),
        1 => Just(b"authenticated".to_vec()),
    ]
}

pub(super) fn content_type() -> impl Strategy<Value = Option<String>> {
    prop::option::weighted(
        0.85,
        prop_oneof![
            6 => Just("application/json".to_owned()),
            1 => Just("application/json; charset=utf-8".to_owned()),
            1 => Just("application/x-www-form-urlencoded".to_owned()),
            1 => Just("text/plain".to_owned()),
            1 => Just("multipart/form-data; boundary=x".to_owned()),
            1 => "[ -~]{0,20}",
        ],
    )
}
