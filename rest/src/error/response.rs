//! [`ApiError`] as PostgREST's response: the only place a failure becomes a status, a body
//! and headers.

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{ApiError, PgError, sqlstate};

/// What a failure looks like on the wire.
pub struct ErrorParts {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub details: Value,
    pub hint: Value,
    pub headers: Vec<(String, String)>,
}

fn text(s: impl Into<String>) -> Value {
    Value::String(s.into())
}

fn opt(s: &Option<String>) -> Value {
    s.clone().map(Value::String).unwrap_or(Value::Null)
}

impl ApiError {
    /// PostgREST's code for this error.
    pub fn code(&self) -> String {
        self.parts().code
    }

    /// The HTTP status PostgREST answers with.
    pub fn status(&self) -> u16 {
        self.parts().status
    }

    /// Status, body fields and headers, as PostgREST 13 gives them.
    pub fn parts(&self) -> ErrorParts {
        let message = self.to_string();
        let simple = |status: u16, code: &str| ErrorParts {
            status,
            code: code.into(),
            message: message.clone(),
            details: Value::Null,
            hint: Value::Null,
            headers: Vec::new(),
        };
        let with = |status: u16, code: &str, details: Value, hint: Value| ErrorParts {
            details,
            hint,
            ..simple(status, code)
        };
        match self {
            ApiError::ParseQuery { details, .. } => {
                with(400, "PGRST100", text(details), Value::Null)
            }
            ApiError::InvalidPreferences { invalid } => with(
                400,
                "PGRST122",
                text(format!("Invalid preferences: {}", invalid.join(", "))),
                Value::Null,
            ),
            ApiError::InvalidRange { details } => with(416, "PGRST103", opt(details), Value::Null),
            ApiError::NoAcceptableMedia { .. } => simple(406, "PGRST107"),
            ApiError::Jwt(e) => {
                let details = match e {
                    super::JwtError::NoSuitableKey(d) | super::JwtError::BadAlgorithm(d) => text(d),
                    _ => Value::Null,
                };
                let mut parts = with(401, e.code(), details, Value::Null);
                parts.headers.push((
                    "WWW-Authenticate".into(),
                    format!(
                        "Bearer error=\"invalid_token\", error_description={}",
                        haskell_show(&message)
                    ),
                ));
                parts
            }
            ApiError::JwtSecretMissing => simple(500, "PGRST300"),
            ApiError::AnonymousDisabled => {
                let mut parts = simple(401, "PGRST302");
                parts
                    .headers
                    .push(("WWW-Authenticate".into(), "Bearer".into()));
                parts
            }
            ApiError::InvalidRpcMethod(_) => simple(405, "PGRST101"),
            ApiError::InvalidBody(_) => simple(400, "PGRST102"),
            ApiError::PayloadTooLarge { .. } => simple(413, "PGRST102"),
            ApiError::BodyTimeout { .. } => simple(408, "PGRST102"),
            ApiError::PutFilters => simple(405, "PGRST105"),
            ApiError::UnacceptableSchema { exposed, .. } => with(
                406,
                "PGRST106",
                Value::Null,
                text(format!(
                    "Only the following schemas are exposed: {}",
                    exposed.join(", ")
                )),
            ),
            ApiError::NotEmbedded(resource) => with(
                400,
                "PGRST108",
                Value::Null,
                text(format!(
                    "Verify that '{resource}' is included in the 'select' query parameter."
                )),
            ),
            ApiError::GucHeaders => simple(500, "PGRST111"),
            ApiError::GucStatus => simple(500, "PGRST112"),
            ApiError::PutLimit => simple(400, "PGRST114"),
            ApiError::PutPkMismatch => simple(400, "PGRST115"),
            ApiError::Singular { rows } => with(
                406,
                "PGRST116",
                text(format!("The result contains {rows} rows")),
                Value::Null,
            ),
            ApiError::UnsupportedMethod(_) => simple(405, "PGRST117"),
            ApiError::RelatedOrderNotToOne { origin, target } => with(
                400,
                "PGRST118",
                text(format!(
                    "'{origin}' and '{target}' do not form a many-to-one or one-to-one relationship"
                )),
                Value::Null,
            ),
            ApiError::UnacceptableFilter(_) => with(
                400,
                "PGRST120",
                text("Only is null or not is null filters are allowed on embedded resources"),
                Value::Null,
            ),
            ApiError::RaiseParse { details, hint } => {
                with(500, "PGRST121", text(details), text(hint))
            }
            ApiError::AggregatesNotAllowed => simple(400, "PGRST123"),
            ApiError::MaxAffected { rows } => with(
                400,
                "PGRST124",
                text(format!("The query affects {rows} rows")),
                Value::Null,
            ),
            ApiError::InvalidPath => simple(404, "PGRST125"),
            ApiError::OpenApiDisabled => simple(404, "PGRST126"),
            ApiError::NotImplemented(details) => with(400, "PGRST127", text(details), Value::Null),
            ApiError::MaxAffectedRpc => simple(400, "PGRST128"),
            ApiError::NoRelationship {
                parent,
                child,
                embed_hint,
                schema,
                suggestion,
            } => with(
                400,
                "PGRST200",
                text(format!(
                    "Searched for a foreign key relationship between '{parent}' and '{child}'{} in the schema '{schema}', but no matches were found.",
                    embed_hint
                        .as_ref()
                        .map(|h| format!(" using the hint '{h}'"))
                        .unwrap_or_default()
                )),
                opt(suggestion),
            ),
            ApiError::AmbiguousRelationship { details, hint, .. } => {
                with(300, "PGRST201", details.clone(), text(hint))
            }
            ApiError::NoFunction { details, hint, .. } => {
                with(404, "PGRST202", text(details), opt(hint))
            }
            ApiError::AmbiguousFunction { .. } => with(
                300,
                "PGRST203",
                Value::Null,
                text(
                    "Try renaming the parameters or the function itself in the database so function overloading can be resolved",
                ),
            ),
            ApiError::ColumnNotFound { .. } => simple(400, "PGRST204"),
            ApiError::TableNotFound {
                schema, suggestion, ..
            } => with(
                404,
                "PGRST205",
                Value::Null,
                suggestion
                    .as_ref()
                    .map(|t| text(format!("Perhaps you meant the table '{schema}.{t}'")))
                    .unwrap_or(Value::Null),
            ),
            ApiError::DbConnection(details) => with(503, "PGRST000", text(details), Value::Null),
            ApiError::DbClient(details) => with(503, "PGRST001", text(details), Value::Null),
            ApiError::SchemaCacheNotLoaded => simple(503, "PGRST002"),
            ApiError::PoolTimeout => simple(504, "PGRST003"),
            ApiError::Internal(details) => with(500, "PGRSTX00", text(details), Value::Null),
            ApiError::Postgres {
                error,
                authenticated,
            } => postgres_parts(error, *authenticated),
        }
    }
}

fn postgres_parts(error: &PgError, authenticated: bool) -> ErrorParts {
    if error.code == "PGRST" {
        return raise_pgrst(error);
    }
    let status = sqlstate::status_of(&error.code, &error.message, authenticated);
    let mut headers = Vec::new();
    if status == 401 {
        headers.push(("WWW-Authenticate".into(), "Bearer".into()));
    }
    ErrorParts {
        status,
        code: error.code.clone(),
        message: error.message.clone(),
        details: opt(&error.detail),
        hint: opt(&error.hint),
        headers,
    }
}

/// `RAISE SQLSTATE 'PGRST' USING message = '{json}', detail = '{json}'`: the function chose
/// the whole response.
fn raise_pgrst(error: &PgError) -> ErrorParts {
    let bad = |details: String, hint: &str| {
        ApiError::RaiseParse {
            details,
            hint: hint.into(),
        }
        .parts()
    };
    const MSG_HINT: &str = "MESSAGE must be a JSON object with obligatory keys: 'code', 'message' and optional keys: 'details', 'hint'.";
    const DET_HINT: &str = "DETAIL must be a JSON object with obligatory keys: 'status', 'headers' and optional key: 'status_text'.";
    let Ok(message) = serde_json::from_str::<Value>(&error.message) else {
        return bad(
            format!("Invalid JSON value for MESSAGE: '{}'", error.message),
            MSG_HINT,
        );
    };
    let (Some(code), Some(msg)) = (
        message.get("code").and_then(Value::as_str),
        message.get("message").and_then(Value::as_str),
    ) else {
        return bad(
            format!("Invalid JSON value for MESSAGE: '{}'", error.message),
            MSG_HINT,
        );
    };
    let Some(detail_text) = &error.detail else {
        return bad("DETAIL is missing in the RAISE statement".into(), DET_HINT);
    };
    let detail: Option<Value> = serde_json::from_str(detail_text).ok();
    let status = detail
        .as_ref()
        .and_then(|d| d.get("status"))
        .and_then(Value::as_u64)
        .filter(|s| (100..=599).contains(s));
    let headers = detail
        .as_ref()
        .and_then(|d| d.get("headers"))
        .and_then(Value::as_object);
    let (Some(status), Some(headers)) = (status, headers) else {
        return bad(
            format!("Invalid JSON value for DETAIL: '{detail_text}'"),
            DET_HINT,
        );
    };
    ErrorParts {
        status: status as u16,
        code: code.into(),
        message: msg.into(),
        details: message.get("details").cloned().unwrap_or(Value::Null),
        hint: message.get("hint").cloned().unwrap_or(Value::Null),
        headers: headers
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
            .collect(),
    }
}

/// Haskell's `show` of a Text, which PostgREST uses to quote `error_description`.
fn haskell_show(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c => out.push_str(&format!("\\{}", c as u32)),
        }
    }
    out.push('"');
    out
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let parts = self.parts();
        let body = json!({
            "code": parts.code,
            "details": parts.details,
            "hint": parts.hint,
            "message": parts.message,
        })
        .to_string();
        let status =
            StatusCode::from_u16(parts.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        if let Ok(v) = HeaderValue::from_str(&format!("PostgREST; error={}", parts.code)) {
            headers.insert(HeaderName::from_static("proxy-status"), v);
        }
        if parts.status == 503 {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("0"));
        }
        for (name, value) in parts.headers {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                headers.append(n, v);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests;
