//! Checking a step's stated expectations against what came back.

use serde_json::Value;

use super::exchange::Received;

/// One expectation that did not hold, worded for a person: what was expected, what came.
pub type Failure = String;

/// Looks up a dotted path (`user.identities.0.id`) in a JSON value.
pub fn json_path<'a>(json: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(json, |value, key| match value {
        Value::Object(map) => map.get(key),
        Value::Array(items) => key.parse::<usize>().ok().and_then(|index| items.get(index)),
        _ => None,
    })
}

pub fn status(expected: Option<u16>, received: &Received) -> Option<Failure> {
    let expected = expected?;
    (received.status != expected)
        .then(|| format!("status: expected {expected}, got {}", received.status))
}

pub fn header(name: &str, expected: &str, received: &Received) -> Option<Failure> {
    let values: Vec<&str> = received.header_values(name).collect();
    if values.contains(&expected) {
        return None;
    }
    Some(match values.as_slice() {
        [] => {
            format!("header {name}: expected {expected:?}, but the response has no {name} header")
        }
        values => format!("header {name}: expected {expected:?}, got {values:?}"),
    })
}

pub fn json_field(path: &str, expected: &Value, body: Option<&Value>) -> Option<Failure> {
    let Some(body) = body else {
        return Some(format!(
            "json {path}: expected {expected}, but the body is not JSON"
        ));
    };
    match json_path(body, path) {
        Some(actual) if actual == expected => None,
        Some(actual) => Some(format!("json {path}: expected {expected}, got {actual}")),
        None => Some(format!(
            "json {path}: expected {expected}, but the field is missing"
        )),
    }
}

pub fn body_contains(expected: &str, received: &Received) -> Option<Failure> {
    (!received.body.contains(expected))
        .then(|| format!("body: expected it to contain {expected:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn received(status: u16, headers: &[(&str, &str)]) -> Received {
        Received {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: r#"{"error":"Unauthorized"}"#.into(),
        }
    }

    #[test]
    fn json_paths_walk_objects_and_arrays() {
        let body = json!({"user": {"identities": [{"id": "x"}]}});
        assert_eq!(json_path(&body, "user.identities.0.id"), Some(&json!("x")));
        assert_eq!(json_path(&body, "user.identities.1.id"), None);
        assert_eq!(json_path(&body, "user.missing"), None);
    }

    #[test]
    fn failures_say_what_was_expected_and_what_came() {
        let response = received(500, &[("WWW-Authenticate", "Basic")]);
        assert_eq!(
            status(Some(401), &response).unwrap(),
            "status: expected 401, got 500"
        );
        assert!(status(Some(500), &response).is_none());
        assert!(status(None, &response).is_none());
        assert_eq!(
            header("www-authenticate", "Bearer", &response).unwrap(),
            r#"header www-authenticate: expected "Bearer", got ["Basic"]"#
        );
        assert!(
            header("retry-after", "1", &response)
                .unwrap()
                .contains("no retry-after header")
        );
        assert!(body_contains("Unauthorized", &response).is_none());
        assert!(body_contains("Failed to parse", &response).is_some());
    }

    #[test]
    fn json_fields_compare_whole_values() {
        let body = json!({"sessionId": "abc", "n": 1});
        assert!(json_field("n", &json!(1), Some(&body)).is_none());
        assert_eq!(
            json_field("n", &json!("1"), Some(&body)).unwrap(),
            r#"json n: expected "1", got 1"#
        );
        assert!(
            json_field("x", &json!(1), Some(&body))
                .unwrap()
                .contains("missing")
        );
        assert!(
            json_field("x", &json!(1), None)
                .unwrap()
                .contains("not JSON")
        );
    }
}
