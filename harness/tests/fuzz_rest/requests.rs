//! One generated data API request: a method, a path (the fixture's tables, views and
//! functions, and names that are none of them), a query string in PostgREST's grammar spoiled
//! in every part, the headers the grammar reads (`Prefer`, `Range`, `Accept`, profiles,
//! `Content-Type`), a credential (including role claims no token may become) and a body.

use proptest::prelude::*;

use super::values::{body, bound_integer, identifier, query_value};

/// Who the request claims to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    None,
    Anon,
    ServiceRole,
    /// A signed token whose role claim no request may become.
    Role(&'static str),
    Raw(String),
}

impl Credential {
    /// A role the server must never take on.
    pub fn forbidden_role(&self) -> Option<&'static str> {
        match self {
            Credential::Role(role) => Some(role),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Request {
    pub method: &'static str,
    pub path: String,
    /// `key=value` pairs, already percent-encoded; a `None` value is a key without `=`.
    pub query: Vec<(String, Option<String>)>,
    pub headers: Vec<(&'static str, String)>,
    pub credential: Credential,
    pub body: Option<Vec<u8>>,
}

impl Request {
    pub fn path_and_query(&self) -> String {
        let query: Vec<String> = self
            .query
            .iter()
            .map(|(k, v)| match v {
                Some(v) => format!("{k}={v}"),
                None => k.clone(),
            })
            .collect();
        if query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, query.join("&"))
        }
    }
}

fn method() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "GET", "GET", "GET", "HEAD", "POST", "POST", "PATCH", "PATCH", "PUT", "DELETE", "OPTIONS",
        "TRACE", "FOO",
    ])
}

fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::sample::select(vec![
            "/items", "/books", "/authors", "/reviews", "/notes", "/secrets", "/codes", "/nopk",
            "/books_view", "/book_counts", "/rpc/add", "/rpc/json_echo", "/rpc/bump",
            "/rpc/vsum", "/rpc/whoami", "/rpc/setting", "/rpc/hello", "/rpc/nope", "/",
        ])
        .prop_map(str::to_owned),
        2 => identifier().prop_map(|name| format!("/{name}")),
        1 => identifier().prop_map(|name| format!("/rpc/{name}")),
        1 => Just("/items/1".to_owned()),
        1 => Just("/rpc".to_owned()),
    ]
}

fn operator() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(vec![
            "eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "match", "imatch", "in",
            "is", "isdistinct", "fts", "plfts", "phfts", "wfts", "cs", "cd", "ov", "sl", "sr",
            "nxr", "nxl", "adj", "not.eq", "eq(any)", "like(all)", "fts(english)",
            "fts(x;drop)",
        ])
        .prop_map(str::to_owned),
        1 => identifier(),
    ]
}

/// An operand as its operator expects it (lists, arrays, ranges) or not.
fn operand() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => query_value(),
        1 => prop::collection::vec(query_value(), 0..4).prop_map(|v| format!("({})", v.join(","))),
        1 => prop::collection::vec(query_value(), 0..4).prop_map(|v| format!("%7B{}%7D", v.join(","))),
        1 => (bound_integer(), bound_integer()).prop_map(|(a, b)| format!("%5B{a},{b})")),
        1 => prop::sample::select(vec!["null", "true", "false", "unknown", "not_null"])
            .prop_map(str::to_owned),
    ]
}

/// A column reference as `select`, `order` and filters write one: plain, JSON path, cast.
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        5 => identifier(),
        1 => (identifier(), identifier()).prop_map(|(c, k)| format!("{c}->>{k}")),
        1 => (identifier(), identifier()).prop_map(|(c, k)| format!("{c}->{k}->0")),
        1 => (identifier(), identifier()).prop_map(|(c, t)| format!("{c}::{t}")),
    ]
}

fn select_item() -> impl Strategy<Value = String> {
    prop_oneof![
        5 => field(),
        1 => Just("*".to_owned()),
        1 => (identifier(), field()).prop_map(|(alias, f)| format!("{alias}:{f}")),
        1 => (identifier(), identifier()).prop_map(|(e, c)| format!("{e}({c})")),
        1 => Just("authors(*,books(title))".to_owned()),
        1 => Just("count()".to_owned()),
    ]
}

fn param() -> impl Strategy<Value = (String, Option<String>)> {
    let filter =
        (field(), operator(), operand()).prop_map(|(f, o, v)| (f, Some(format!("{o}.{v}"))));
    let logic = (
        prop::sample::select(vec!["or", "and", "not.or", "not.and"]),
        prop::collection::vec((identifier(), operator(), query_value()), 0..4),
    )
        .prop_map(|(kind, items)| {
            let inner: Vec<String> = items
                .iter()
                .map(|(c, o, v)| format!("{c}.{o}.{v}"))
                .collect();
            (kind.to_owned(), Some(format!("({})", inner.join(","))))
        });
    let list =
        |items: BoxedStrategy<String>| prop::collection::vec(items, 0..5).prop_map(|v| v.join(","));
    prop_oneof![
        6 => filter,
        2 => logic,
        3 => list(select_item().boxed()).prop_map(|v| ("select".to_owned(), Some(v))),
        2 => list(
            (field(), prop::sample::select(vec!["", ".asc", ".desc", ".nullsfirst", ".desc.nullslast", ".x"]))
                .prop_map(|(f, d)| format!("{f}{d}"))
                .boxed()
        )
        .prop_map(|v| ("order".to_owned(), Some(v))),
        2 => (prop::sample::select(vec!["limit", "offset", "books.limit"]), bound_integer())
            .prop_map(|(k, v)| (k.to_owned(), Some(v))),
        1 => list(identifier().boxed()).prop_map(|v| ("on_conflict".to_owned(), Some(v))),
        1 => list(identifier().boxed()).prop_map(|v| ("columns".to_owned(), Some(v))),
        // RPC arguments by GET.
        2 => (prop::sample::select(vec!["a", "b", "item", "by", "nums", "name"]), query_value())
            .prop_map(|(k, v)| (k.to_owned(), Some(v))),
        1 => identifier().prop_map(|k| (k, None)),
        1 => (query_value(), query_value()).prop_map(|(k, v)| (k, Some(v))),
    ]
}

/// `Prefer` items, known and not, valid values and not.
fn prefer() -> impl Strategy<Value = String> {
    let item = prop_oneof![
        3 => prop::sample::select(vec![
            "return=representation", "return=minimal", "return=headers-only", "count=exact",
            "count=planned", "count=estimated", "resolution=merge-duplicates",
            "resolution=ignore-duplicates", "missing=default", "handling=strict",
            "handling=lenient", "tx=rollback", "tx=commit", "params=single-object",
            "timezone=UTC", "timezone=Not/AZone", "max-affected=1", "max-affected=-1",
            "max-affected=99999999999999999999", "return=", "bogus",
        ])
        .prop_map(str::to_owned),
        1 => query_value(),
    ];
    prop::collection::vec(item, 1..4).prop_map(|items| items.join(", "))
}

fn header() -> impl Strategy<Value = (&'static str, String)> {
    prop_oneof![
        3 => prefer().prop_map(|v| ("prefer", v)),
        2 => (bound_integer(), bound_integer()).prop_map(|(a, b)| ("range", format!("{a}-{b}"))),
        1 => query_value().prop_map(|v| ("range", v)),
        1 => Just(("range-unit", "items".to_owned())),
        2 => prop::sample::select(vec![
            "application/json", "*/*", "application/vnd.pgrst.object+json", "text/csv",
            "application/vnd.pgrst.array+json;nulls=stripped", "application/geo+json",
            "application/vnd.pgrst.plan+json", "text/html", "image/png", "application/json;q=x",
            "", ",,,",
        ])
        .prop_map(|v| ("accept", v.to_owned())),
        1 => prop::sample::select(vec!["public", "private", "pg_catalog", "", "x;drop"])
            .prop_map(|v| ("accept-profile", v.to_owned())),
        1 => prop::sample::select(vec!["public", "private", "pg_catalog", ""])
            .prop_map(|v| ("content-profile", v.to_owned())),
    ]
}

fn content_type() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        6 => Just(Some("application/json".to_owned())),
        1 => Just(None),
        1 => prop::sample::select(vec![
            "text/plain", "text/csv", "application/x-www-form-urlencoded",
            "application/octet-stream", "application/json; charset=latin1", "garbage", "",
            "application/vnd.pgrst.object+json",
        ])
        .prop_map(|v| Some(v.to_owned())),
    ]
}

fn credential() -> impl Strategy<Value = Credential> {
    prop_oneof![
        3 => Just(Credential::None),
        3 => Just(Credential::Anon),
        3 => Just(Credential::ServiceRole),
        2 => prop::sample::select(vec!["postgres", "supabase_admin", "no_such_role"])
            .prop_map(Credential::Role),
        1 => "[ -~]{0,40}".prop_map(Credential::Raw),
    ]
}

/// Hostile requests, and plausible ones (a fixture table or function, a known column with an
/// operator and a hostile value, a body of the table's own columns) that get past the parser
/// to PostgreSQL and its writes.
pub fn request() -> impl Strategy<Value = Request> {
    prop_oneof![hostile(), plausible()]
}

fn plausible() -> impl Strategy<Value = Request> {
    let column = prop::sample::select(vec!["id", "name", "qty"]);
    let filter = (
        column.clone(),
        prop::sample::select(vec!["eq", "neq", "gt", "lte", "like", "in", "is"]),
        query_value(),
    )
        .prop_map(|(c, o, v)| match o {
            "in" => (c.to_owned(), Some(format!("in.({v},1)"))),
            _ => (c.to_owned(), Some(format!("{o}.{v}"))),
        });
    let value = prop_oneof![
        super::values::json_value(),
        bound_integer().prop_map(String::into_bytes),
    ];
    let row = prop::collection::vec((column, value), 1..4).prop_map(|members| {
        let members: Vec<Vec<u8>> = members
            .into_iter()
            .map(|(k, v)| [format!("\"{k}\":").into_bytes(), v].concat())
            .collect();
        [&b"{"[..], &members.join(&b","[..]), b"}"].concat()
    });
    let rpc = (
        prop::sample::select(vec!["/rpc/add", "/rpc/bump", "/rpc/setting", "/rpc/vsum"]),
        prop::collection::vec(
            (
                prop::sample::select(vec!["a", "b", "item", "by", "name", "nums"]),
                query_value(),
            ),
            0..3,
        ),
    );
    (
        prop::sample::select(vec!["GET", "POST", "PATCH", "DELETE", "PUT"]),
        prop_oneof![
            3 => Just(("/items".to_owned(), Vec::new())),
            1 => rpc.prop_map(|(path, args)| {
                (path.to_owned(), args.into_iter().map(|(k, v)| (k.to_owned(), Some(v))).collect())
            }),
        ],
        prop::collection::vec(filter, 0..3),
        prop::collection::vec(prefer().prop_map(|v| ("prefer", v)), 0..2),
        prop_oneof![
            Just(Credential::Anon),
            Just(Credential::ServiceRole),
            Just(Credential::Role("postgres"))
        ],
        row,
    )
        .prop_map(
            |(method, (path, mut query), filters, mut headers, credential, body)| {
                query.extend(filters);
                headers.push(("content-type", "application/json".to_owned()));
                Request {
                    method,
                    path,
                    query,
                    headers,
                    credential,
                    body: (method != "GET" && method != "DELETE").then_some(body),
                }
            },
        )
}

fn hostile() -> impl Strategy<Value = Request> {
    (
        method(),
        path(),
        prop::collection::vec(param(), 0..5),
        prop::collection::vec(header(), 0..3),
        content_type(),
        credential(),
        prop::option::weighted(0.7, body()),
    )
        .prop_map(
            |(method, path, query, mut headers, content_type, credential, body)| {
                if let Some(content_type) = content_type {
                    headers.push(("content-type", content_type));
                }
                Request {
                    method,
                    path,
                    query,
                    headers,
                    credential,
                    body,
                }
            },
        )
}
