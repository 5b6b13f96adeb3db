//! Generated requests to the auth server: every endpoint GoTrue's API description lists that
//! this server has, with the wrong method now and then, and parameters, headers and bodies
//! built to reach the hostile cases (any Unicode, NUL, lone surrogate escapes, invalid UTF-8,
//! integers at and past every bound, repeated and missing parameters, wrong content types,
//! huge and empty values). Nothing here knows the right answers; the properties are checked in
//! `main.rs`.

use proptest::prelude::*;

use super::mutations::mutation;
use super::values::{body, content_type, credential, header_text, path_id, query};

/// The endpoints, as GoTrue routes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Endpoint {
    Health,
    Settings,
    Jwks,
    Signup,
    Token,
    UserGet,
    UserPut,
    Logout,
    AdminList,
    AdminCreate,
    AdminGet,
    AdminPut,
    AdminDelete,
    /// A path GoTrue does not have.
    Elsewhere,
}

impl Endpoint {
    const ALL: [Endpoint; 14] = [
        Endpoint::Health,
        Endpoint::Settings,
        Endpoint::Jwks,
        Endpoint::Signup,
        Endpoint::Token,
        Endpoint::UserGet,
        Endpoint::UserPut,
        Endpoint::Logout,
        Endpoint::AdminList,
        Endpoint::AdminCreate,
        Endpoint::AdminGet,
        Endpoint::AdminPut,
        Endpoint::AdminDelete,
        Endpoint::Elsewhere,
    ];

    pub fn method(self) -> &'static str {
        use Endpoint::*;
        match self {
            Health | Settings | Jwks | UserGet | AdminList | AdminGet | Elsewhere => "GET",
            Signup | Token | Logout | AdminCreate => "POST",
            UserPut | AdminPut => "PUT",
            AdminDelete => "DELETE",
        }
    }

    /// The body fields the endpoint reads (GoTrue's parameter structs).
    pub fn fields(self) -> &'static [&'static str] {
        use Endpoint::*;
        match self {
            Signup => &[
                "email",
                "phone",
                "password",
                "data",
                "code_challenge",
                "code_challenge_method",
            ],
            Token => &["email", "phone", "password", "refresh_token"],
            UserPut => &[
                "email",
                "password",
                "data",
                "app_metadata",
                "phone",
                "nonce",
            ],
            AdminCreate | AdminPut => &[
                "id",
                "aud",
                "email",
                "phone",
                "password",
                "password_hash",
                "email_confirm",
                "user_metadata",
                "app_metadata",
                "role",
                "ban_duration",
            ],
            AdminDelete => &["should_soft_delete"],
            _ => &[],
        }
    }

    /// The query parameters the endpoint reads.
    pub fn parameters(self) -> &'static [&'static str] {
        match self {
            Endpoint::Token => &["grant_type"],
            Endpoint::Logout => &["scope"],
            Endpoint::AdminList => &["page", "per_page", "sort", "filter"],
            _ => &[],
        }
    }
}

/// Who is calling.
#[derive(Debug, Clone)]
pub enum Credential {
    None,
    /// The service_role key.
    Admin,
    /// The fixture user's access token.
    User,
    Anon,
    /// Arbitrary bytes a header value may hold.
    Raw(Vec<u8>),
    /// Two Authorization headers (GoTrue reads the first).
    Both(Box<Credential>, Box<Credential>),
}

/// The `{id}` of /admin/users/{id}.
#[derive(Debug, Clone)]
pub enum PathId {
    /// The fixture victim's id.
    Victim,
    Random(u128),
    Nil,
    /// Raw path text, percent-escapes included.
    Text(String),
}

/// Named body fields, each value JSON text.
pub type Fields = Vec<(&'static str, Vec<u8>)>;

#[derive(Debug, Clone)]
pub enum Body {
    None,
    /// A JSON object of named fields.
    Fields(Fields),
    /// JSON text (possibly broken), possibly with invalid UTF-8 inside.
    Json(Vec<u8>),
    Raw(Vec<u8>),
    /// A body of `len` bytes of a JSON string, past GoTrue's 1 MiB cap when len is.
    Huge(usize),
}

#[derive(Debug, Clone)]
pub struct Request {
    pub endpoint: Endpoint,
    pub method: &'static str,
    pub trailing_slash: bool,
    pub path_id: PathId,
    pub query: Vec<(String, String)>,
    pub credential: Credential,
    pub api_version: bool,
    pub aud: Option<Vec<u8>>,
    pub content_type: Option<String>,
    pub body: Body,
}

/// Half the requests are what a client would send, changed in one way (a field, a parameter,
/// the method, the credential, the content type, the body, the path, a header), so the one
/// hostile part meets the code behind every check it passes; the other half are hostile in
/// every part at once.
pub fn request() -> impl Strategy<Value = Request> {
    let endpoint = prop::sample::select(Endpoint::ALL.to_vec());
    prop_oneof![
        1 => endpoint.clone().prop_flat_map(|e| mutation(e).prop_map(move |m| m.apply(valid(e)))),
        1 => endpoint.prop_flat_map(wild),
    ]
}

/// The request a well-behaved client sends to `endpoint`.
fn valid(endpoint: Endpoint) -> Request {
    use Endpoint::*;
    let pairs = |pairs: &[(&str, &str)]| -> Fields {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    *endpoint
                        .fields()
                        .iter()
                        .find(|f| *f == k)
                        .expect("a known field"),
                    v.as_bytes().to_vec(),
                )
            })
            .collect()
    };
    let (credential, query, fields): (Credential, Vec<(&str, &str)>, Fields) = match endpoint {
        Health | Settings | Jwks | Elsewhere => (Credential::None, vec![], vec![]),
        Signup => (
            Credential::None,
            vec![],
            pairs(&[
                ("email", "\"fuzz-{unique}@example.test\""),
                ("password", "\"fuzz-password-1\""),
                ("data", "{\"plan\":\"pro\"}"),
            ]),
        ),
        Token => (
            Credential::None,
            vec![("grant_type", "password")],
            pairs(&[
                ("email", "\"{self_email}\""),
                ("password", "\"{self_password}\""),
            ]),
        ),
        UserGet => (Credential::User, vec![], vec![]),
        UserPut => (
            Credential::User,
            vec![],
            pairs(&[("data", "{\"plan\":\"team\"}")]),
        ),
        Logout => (Credential::User, vec![("scope", "local")], vec![]),
        AdminList => (
            Credential::Admin,
            vec![("page", "1"), ("per_page", "10")],
            vec![],
        ),
        AdminCreate => (
            Credential::Admin,
            vec![],
            pairs(&[
                ("email", "\"fuzz-{unique}@example.test\""),
                ("password", "\"fuzz-password-1\""),
            ]),
        ),
        AdminGet | AdminDelete => (Credential::Admin, vec![], vec![]),
        AdminPut => (
            Credential::Admin,
            vec![],
            pairs(&[("user_metadata", "{\"plan\":\"team\"}")]),
        ),
    };
    Request {
        endpoint,
        method: endpoint.method(),
        trailing_slash: false,
        path_id: PathId::Victim,
        query: query
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        credential,
        api_version: false,
        aud: None,
        content_type: Some("application/json".to_owned()),
        body: if fields.is_empty() {
            Body::None
        } else {
            Body::Fields(fields)
        },
    }
}

/// Hostile in every part at once.
fn wild(endpoint: Endpoint) -> impl Strategy<Value = Request> {
    let method = prop_oneof![
        17 => Just(endpoint.method()),
        3 => prop::sample::select(vec!["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]),
    ];
    (
        method,
        prop::bool::weighted(0.1),
        path_id(),
        query(endpoint),
        credential(),
        prop::bool::weighted(0.3),
        prop::option::weighted(0.1, header_text()),
        content_type(),
        body(endpoint),
    )
        .prop_map(
            move |(
                method,
                trailing_slash,
                path_id,
                query,
                credential,
                api_version,
                aud,
                content_type,
                body,
            )| Request {
                endpoint,
                method,
                trailing_slash,
                path_id,
                query,
                credential,
                api_version,
                aud,
                content_type,
                body,
            },
        )
}
