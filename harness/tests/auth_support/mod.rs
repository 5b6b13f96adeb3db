//! Shared by the auth server's hostile-input tests: what a refusal must look like, and the rows a
//! refused request must not have written.

#![allow(dead_code)] // each test binary uses its own subset

use reqwest::header::HeaderMap;
use serde_json::Value;

/// Rows of the tables a request could write to, counted as the superuser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthRows {
    pub users: i64,
    pub sessions: i64,
    pub refresh_tokens: i64,
    pub identities: i64,
}

impl AuthRows {
    pub async fn count(db: &sqlx::PgPool) -> AuthRows {
        let (users, sessions, refresh_tokens, identities) = sqlx::query_as(
            "select (select count(*) from auth.users), (select count(*) from auth.sessions),
                    (select count(*) from auth.refresh_tokens), (select count(*) from auth.identities)",
        )
        .fetch_one(db)
        .await
        .expect("counting auth rows as the superuser");
        AuthRows {
            users,
            sessions,
            refresh_tokens,
            identities,
        }
    }
}

/// Why an answer is not in one of GoTrue's shapes, or `None` when it is.
///
/// GoTrue's errors are JSON, `{code:int, error_code, msg}` (plus `error_id` on 5xx and
/// `weak_password` on 422) or, for clients sending `X-Supabase-Api-Version`, `{code:"…",
/// message}`; the error code is repeated in `x-sb-error-code`. Its router's own two answers are
/// not JSON: Go's `http.NotFound` for an unknown path, and chi's empty 405 for a known path
/// without the method.
pub fn gotrue_shape_violation(status: u16, headers: &HeaderMap, body: &[u8]) -> Option<String> {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match status {
        404 if content_type == "text/plain; charset=utf-8" => {
            return (body != b"404 page not found\n")
                .then(|| format!("a text/plain 404 other than Go's: {:?}", lossy(body)));
        }
        405 => {
            return (!body.is_empty())
                .then(|| format!("a 405 with a body, where chi's is empty: {:?}", lossy(body)));
        }
        _ => {}
    }
    if content_type != "application/json" {
        return Some(format!(
            "content-type {content_type:?}, not application/json: {:?}",
            lossy(body)
        ));
    }
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return Some(format!("not a JSON object: {:?}", lossy(body)));
    };
    let header_code = headers.get("x-sb-error-code").and_then(|v| v.to_str().ok());
    let (code, keys): (Option<&str>, &[&str]) = match fields.get("code") {
        Some(Value::Number(n)) if n.as_u64() == Some(u64::from(status)) => (
            fields.get("error_code").and_then(Value::as_str),
            &["code", "error_code", "msg", "error_id", "weak_password"],
        ),
        Some(Value::String(code)) => (Some(code.as_str()), &["code", "message", "weak_password"]),
        other => return Some(format!("`code` is {other:?} for status {status}")),
    };
    if let Some(extra) = fields.keys().find(|k| !keys.contains(&k.as_str())) {
        return Some(format!("unexpected field {extra:?} in {fields:?}"));
    }
    let message = fields.get("msg").or_else(|| fields.get("message"));
    if !message.is_some_and(Value::is_string) {
        return Some(format!("no message in {fields:?}"));
    }
    match code {
        None => Some(format!("no error code in {fields:?}")),
        Some(code) if header_code != Some(code) => Some(format!(
            "x-sb-error-code {header_code:?} differs from the body's {code:?}"
        )),
        Some(_) => None,
    }
}

fn lossy(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned()
}
