//! What the HTTP request asks for, before the schema is consulted: the resource of the path
//! (contract §2.1), the schema of the profile headers, the media type, preferences, range,
//! and the settings PostgREST exposes to SQL (`request.headers`, `request.cookies`).

use axum::http::{HeaderMap, Method};
use serde_json::{Map, Value};

use crate::error::ApiError;

/// The resource a path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// `/`: the OpenAPI document.
    Root,
    /// `/<name>`: a table or view.
    Relation(String),
    /// `/rpc/<name>`: a function.
    Rpc(String),
}

/// Reads the path; deeper paths are PGRST125.
pub fn resource(path: &str) -> Result<Resource, ApiError> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| ApiError::InvalidPath)
    };
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        [""] => Ok(Resource::Root),
        ["rpc", name] if !name.is_empty() => Ok(Resource::Rpc(decode(name)?)),
        [name] => Ok(Resource::Relation(decode(name)?)),
        _ => Err(ApiError::InvalidPath),
    }
}

/// The schema a request targets: `Accept-Profile` for reads, `Content-Profile` for writes,
/// else the first exposed one; PGRST106 for one that is not exposed.
pub fn schema(
    method: &Method,
    headers: &HeaderMap,
    exposed: &[String],
) -> Result<String, ApiError> {
    let header = if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        "accept-profile"
    } else {
        "content-profile"
    };
    match headers.get(header).and_then(|v| v.to_str().ok()) {
        None => Ok(exposed.first().cloned().unwrap_or_else(|| "public".into())),
        Some(wanted) if exposed.iter().any(|s| s == wanted) => Ok(wanted.to_owned()),
        Some(wanted) => Err(ApiError::UnacceptableSchema {
            schema: wanted.to_owned(),
            exposed: exposed.to_vec(),
        }),
    }
}

/// `request.headers`: every header, names lower-cased, `Cookie` left out.
pub fn headers_json(headers: &HeaderMap) -> String {
    let mut map = Map::new();
    for (name, value) in headers {
        if name == axum::http::header::COOKIE {
            continue;
        }
        if let Ok(v) = value.to_str() {
            map.insert(name.as_str().to_owned(), Value::String(v.to_owned()));
        }
    }
    Value::Object(map).to_string()
}

/// `request.cookies`: the `Cookie` header's pairs.
pub fn cookies_json(headers: &HeaderMap) -> String {
    let mut map = Map::new();
    for value in headers.get_all(axum::http::header::COOKIE) {
        let Ok(text) = value.to_str() else { continue };
        for pair in text.split(';') {
            if let Some((k, v)) = pair.trim().split_once('=') {
                map.insert(k.trim().to_owned(), Value::String(v.trim().to_owned()));
            }
        }
    }
    Value::Object(map).to_string()
}

/// Every value of `name`, for headers that may repeat (`Prefer`).
pub fn all_values<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a str> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect()
}

/// The request body's kind, from `Content-Type` (JSON when absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyType {
    Json,
    Other,
}

/// Reads `Content-Type`.
pub fn body_type(headers: &HeaderMap) -> (BodyType, String) {
    let ct = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_owned();
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let kind = if essence == "application/json" || essence.is_empty() || essence.ends_with("+json")
    {
        BodyType::Json
    } else {
        BodyType::Other
    };
    (kind, ct)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(resource("/").unwrap(), Resource::Root);
        assert_eq!(
            resource("/todos").unwrap(),
            Resource::Relation("todos".into())
        );
        assert_eq!(
            resource("/my%20table").unwrap(),
            Resource::Relation("my table".into())
        );
        assert_eq!(resource("/rpc/f").unwrap(), Resource::Rpc("f".into()));
        assert_eq!(resource("/a/b").unwrap_err(), ApiError::InvalidPath);
        assert_eq!(resource("/rpc/f/g").unwrap_err(), ApiError::InvalidPath);
    }

    #[test]
    fn profiles() {
        let exposed = vec!["public".to_owned(), "storage".to_owned()];
        let mut h = HeaderMap::new();
        assert_eq!(schema(&Method::GET, &h, &exposed).unwrap(), "public");
        h.insert("accept-profile", "storage".parse().unwrap());
        assert_eq!(schema(&Method::GET, &h, &exposed).unwrap(), "storage");
        // Writes read Content-Profile.
        assert_eq!(schema(&Method::POST, &h, &exposed).unwrap(), "public");
        h.insert("content-profile", "nope".parse().unwrap());
        let e = schema(&Method::POST, &h, &exposed).unwrap_err();
        assert_eq!(e.code(), "PGRST106");
        assert_eq!(e.to_string(), "Invalid schema: nope");
    }

    #[test]
    fn settings_json() {
        let mut h = HeaderMap::new();
        h.insert("X-Thing", "1".parse().unwrap());
        h.insert("cookie", "a=1; b=two".parse().unwrap());
        let headers: Value = serde_json::from_str(&headers_json(&h)).unwrap();
        assert_eq!(headers, serde_json::json!({"x-thing": "1"}));
        let cookies: Value = serde_json::from_str(&cookies_json(&h)).unwrap();
        assert_eq!(cookies, serde_json::json!({"a": "1", "b": "two"}));
    }
}
