//! The one error type of the data API and, in exactly one place (`response`), its mapping
//! to PostgREST's response: status, `{code, details, hint, message}` and headers. The
//! SQLSTATE → status table is [`sqlstate`].

mod response;
pub mod sqlstate;

use serde_json::Value;

/// Why a token was refused (PGRST301 decode errors and PGRST303 claim errors), with
/// PostgREST 13's texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtError {
    EmptyToken,
    Parts(usize),
    /// No key verified the signature (details: which).
    NoSuitableKey(String),
    /// `alg` is `none` or unknown (details: why).
    BadAlgorithm(String),
    BadCrypto,
    UnsupportedTokenType,
    Expired,
    NotYetValid,
    IssuedAtFuture,
    NotInAudience,
    ParsingClaimsFailed,
    /// A time claim (`exp`, `nbf`, `iat`) that is not a number.
    ClaimNotNumber(&'static str),
    AudNotStringOrArray,
}

impl JwtError {
    /// PostgREST's message for this failure.
    pub fn message(&self) -> String {
        match self {
            JwtError::EmptyToken => "Empty JWT is sent in Authorization header".into(),
            JwtError::Parts(n) => format!("Expected 3 parts in JWT; got {n}"),
            JwtError::NoSuitableKey(_) => "No suitable key or wrong key type".into(),
            JwtError::BadAlgorithm(_) => "Wrong or unsupported encoding algorithm".into(),
            JwtError::BadCrypto => "JWT cryptographic operation failed".into(),
            JwtError::UnsupportedTokenType => "Unsupported token type".into(),
            JwtError::Expired => "JWT expired".into(),
            JwtError::NotYetValid => "JWT not yet valid".into(),
            JwtError::IssuedAtFuture => "JWT issued at future".into(),
            JwtError::NotInAudience => "JWT not in audience".into(),
            JwtError::ParsingClaimsFailed => "Parsing claims failed".into(),
            JwtError::ClaimNotNumber(claim) => format!("The JWT '{claim}' claim must be a number"),
            JwtError::AudNotStringOrArray => {
                "The JWT 'aud' claim must be a string or an array of strings".into()
            }
        }
    }

    /// PGRST301 for decoding failures, PGRST303 for claim failures.
    pub fn code(&self) -> &'static str {
        match self {
            JwtError::EmptyToken
            | JwtError::Parts(_)
            | JwtError::NoSuitableKey(_)
            | JwtError::BadAlgorithm(_)
            | JwtError::BadCrypto
            | JwtError::UnsupportedTokenType => "PGRST301",
            _ => "PGRST303",
        }
    }
}

/// A PostgreSQL error as the server reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgError {
    pub code: String,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

/// Every failure a request can meet.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// PGRST100 (400): a query-string key or value that does not parse. `message` is
    /// PostgREST's `"failed to parse <what> (<text>)" (line 1, column N)`, `details` says what
    /// was expected.
    #[error("{message}")]
    ParseQuery { message: String, details: String },
    /// PGRST122 (400): `handling=strict` with preferences PostgREST does not know.
    #[error("Invalid preferences given with handling=strict")]
    InvalidPreferences { invalid: Vec<String> },
    /// PGRST103 (416): a `Range` whose first row is after its last, or an offset past the
    /// total.
    #[error("Requested range not satisfiable")]
    InvalidRange { details: Option<String> },
    /// PGRST107 (406): no media type of `Accept` can be produced; holds what was asked.
    #[error("None of these media types are available: {}", .asked.join(", "))]
    NoAcceptableMedia { asked: Vec<String> },

    /// PGRST301/303 (401): the token is invalid, the [`JwtError`] says how.
    #[error("{}", .0.message())]
    Jwt(JwtError),
    /// PGRST300 (500): a token was sent but no JWT secret is configured.
    #[error("Server lacks JWT secret")]
    JwtSecretMissing,
    /// PGRST302 (401): no token and no anonymous role.
    #[error("Anonymous access is disabled")]
    AnonymousDisabled,

    /// PGRST101 (405): `PUT`/`PATCH`/`DELETE` on `/rpc/f`.
    #[error("Cannot use the {0} method on RPC")]
    InvalidRpcMethod(String),
    /// PGRST102 (400): a body that is not what the request needs.
    #[error("{0}")]
    InvalidBody(String),
    /// 413 (PGRST102's code): a body over the server's limit; PostgREST has no such limit
    /// of its own, this server refuses more than `limit` bytes rather than buffer it.
    #[error("The request body is larger than the server's limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// 408 (PGRST102's code): a body that did not arrive in full within Warp's timeout.
    /// Warp closes such a connection without an answer; this server says why first.
    #[error("The request body did not arrive within {} s", within.as_secs())]
    BodyTimeout { within: std::time::Duration },
    /// PGRST105 (405): PUT filters that are not exactly the primary key with `eq`.
    #[error("Filters must include all and only primary key columns with 'eq' operators")]
    PutFilters,
    /// PGRST106 (406): a profile header naming a schema that is not exposed.
    #[error("Invalid schema: {schema}")]
    UnacceptableSchema {
        schema: String,
        exposed: Vec<String>,
    },
    /// PGRST108 (400): a filter or order on an embed the select does not include.
    #[error("'{0}' is not an embedded resource in this request")]
    NotEmbedded(String),
    /// PGRST111 (500): `response.headers` set to something that is not an array of objects.
    #[error(
        "response.headers guc must be a JSON array composed of objects with a single key and a string value"
    )]
    GucHeaders,
    /// PGRST112 (500): `response.status` set to something that is not a status code.
    #[error("response.status guc must be a valid status code")]
    GucStatus,
    /// PGRST114 (400): `limit`/`offset` on PUT.
    #[error("limit/offset querystring parameters are not allowed for PUT")]
    PutLimit,
    /// PGRST115 (400): PUT payload primary key differs from the URL's.
    #[error("Payload values do not match URL in primary key column(s)")]
    PutPkMismatch,
    /// PGRST116 (406): a singular response asked for, with this many rows.
    #[error("Cannot coerce the result to a single JSON object")]
    Singular { rows: i64 },
    /// PGRST117 (405): a method PostgREST does not serve.
    #[error("Unsupported HTTP method: {0}")]
    UnsupportedMethod(String),
    /// PGRST118 (400): ordering by an embed that is not to-one.
    #[error("A related order on '{target}' is not possible")]
    RelatedOrderNotToOne { origin: String, target: String },
    /// PGRST120 (400): a filter on an embed other than `is.null` / `not.is.null`.
    #[error("Bad operator on the '{0}' embedded resource")]
    UnacceptableFilter(String),
    /// PGRST121 (500): `RAISE SQLSTATE 'PGRST'` whose message or detail is not the JSON
    /// PostgREST expects.
    #[error("Could not parse JSON in the \"RAISE SQLSTATE 'PGRST'\" error")]
    RaiseParse { details: String, hint: String },
    /// PGRST123 (400): an aggregate in `select` (`db-aggregates-enabled` is off, and this
    /// server does not implement it).
    #[error("Use of aggregate functions is not allowed")]
    AggregatesNotAllowed,
    /// PGRST124 (400): `max-affected` exceeded; the transaction was rolled back.
    #[error("Query result exceeds max-affected preference constraint")]
    MaxAffected { rows: i64 },
    /// PGRST125 (404): a path deeper than `/x` or `/rpc/x`.
    #[error("Invalid path specified in request URL")]
    InvalidPath,
    /// PGRST126 (404): `GET /` with `openapi-mode=disabled`.
    #[error("Root endpoint metadata is disabled")]
    OpenApiDisabled,
    /// PGRST127 (400): something PostgREST does that this server does not (yet).
    #[error("Feature not implemented")]
    NotImplemented(String),
    /// PGRST128 (400): `max-affected` on a function that does not return a set.
    #[error(
        "Function must return SETOF or TABLE when max-affected preference is used with handling=strict"
    )]
    MaxAffectedRpc,

    /// PGRST200 (400): an embed with no foreign key between the two.
    #[error("Could not find a relationship between '{parent}' and '{child}' in the schema cache")]
    NoRelationship {
        parent: String,
        child: String,
        embed_hint: Option<String>,
        schema: String,
        suggestion: Option<String>,
    },
    /// PGRST201 (300): an embed that several foreign keys could mean.
    #[error(
        "Could not embed because more than one relationship was found for '{parent}' and '{child}'"
    )]
    AmbiguousRelationship {
        parent: String,
        child: String,
        details: Value,
        hint: String,
    },
    /// PGRST202 (404): no function with that name and those argument names.
    #[error("{message}")]
    NoFunction {
        message: String,
        details: String,
        hint: Option<String>,
    },
    /// PGRST203 (300): several overloads fit.
    #[error("{message}")]
    AmbiguousFunction { message: String },
    /// PGRST204 (400): a payload key or `columns` entry that is not a column.
    #[error("Could not find the '{column}' column of '{relation}' in the schema cache")]
    ColumnNotFound { relation: String, column: String },
    /// PGRST205 (404): no such table or view in the exposed schema.
    #[error("Could not find the table '{schema}.{table}' in the schema cache")]
    TableNotFound {
        schema: String,
        table: String,
        suggestion: Option<String>,
    },

    /// PGRST000 (503): the database cannot be reached; holds the connection error's text.
    #[error("Database connection error. Retrying the connection.")]
    DbConnection(String),
    /// PGRST001 (503): the connection failed while in use.
    #[error("Database client error. Retrying the connection.")]
    DbClient(String),
    /// PGRST002 (503): the schema cache is not loaded (yet).
    #[error("Could not query the database for the schema cache. Retrying.")]
    SchemaCacheNotLoaded,
    /// PGRST003 (504): no connection came free within `db-pool-acquisition-timeout`.
    #[error("Timed out acquiring connection from connection pool.")]
    PoolTimeout,
    /// PGRSTX00 (500): a bug in this server (a panic), said as such rather than as a dropped
    /// connection.
    #[error("Internal server error")]
    Internal(String),
    /// An error PostgreSQL raised (or would raise, for a NUL byte), and whether the request's
    /// role was other than the anonymous role (42501 is 403 then, 401 otherwise).
    #[error("{}", .error.message)]
    Postgres { error: PgError, authenticated: bool },
}

impl ApiError {
    /// The error PostgreSQL gives for a NUL byte in text (refused before it reaches the
    /// server, which would otherwise close the connection on it).
    pub fn nul_byte(authenticated: bool) -> ApiError {
        ApiError::Postgres {
            error: PgError {
                code: "22021".into(),
                message: "invalid byte sequence for encoding \"UTF8\": 0x00".into(),
                detail: None,
                hint: None,
            },
            authenticated,
        }
    }
}
