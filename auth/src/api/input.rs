//! Values checked before they reach SQL, so PostgreSQL never refuses a client's text.
//!
//! PostgreSQL cannot store a NUL character (`\u0000`) in `text`, `varchar` or `jsonb`, and the
//! auth schema's `varchar(255)` columns refuse longer values. GoTrue passes such values to the
//! database and answers 500; here they are a 400 `validation_failed` naming the field, the
//! same code GoTrue uses for its other checks. Emails get GoTrue's own `validateEmail`.

use std::sync::LazyLock;

use serde_json::{Map, Value};

use crate::error::ApiError;

/// The length of the auth schema's `varchar(255)` columns (aud, role, encrypted_password, ...).
pub const VARCHAR_MAX: usize = 255;

/// GoTrue's email format (github.com/badoux/checkmail at the revision GoTrue pins), matched
/// against the lowercased address. Only ASCII passes, so no NUL reaches the database.
static EMAIL_FORMAT: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$",
    )
    .expect("the email pattern compiles")
});

/// GoTrue's `validateEmail`: required, at most 255 bytes, the format above; the address
/// lowercased.
pub fn email(raw: &str) -> Result<String, ApiError> {
    if raw.is_empty() {
        return Err(ApiError::Validation("An email address is required".into()));
    }
    if raw.len() > VARCHAR_MAX {
        return Err(ApiError::Validation("An email address is too long".into()));
    }
    let lower = raw.to_lowercase();
    if !EMAIL_FORMAT.is_match(&lower) {
        return Err(ApiError::Validation(
            "Unable to validate email address: invalid format".into(),
        ));
    }
    Ok(lower)
}

/// A value bound for a `varchar(255)` column.
pub fn short_text(field: &str, value: &str) -> Result<(), ApiError> {
    no_nul(field, value)?;
    if value.chars().count() > VARCHAR_MAX {
        return Err(ApiError::Validation(format!(
            "{field} cannot be longer than {VARCHAR_MAX} characters"
        )));
    }
    Ok(())
}

/// A value bound for a `text` column.
pub fn no_nul(field: &str, value: &str) -> Result<(), ApiError> {
    if value.contains('\0') {
        return Err(ApiError::Validation(format!(
            "{field} cannot contain the NUL character (\\u0000)"
        )));
    }
    Ok(())
}

/// A JSON object bound for a `jsonb` column: no NUL in any key or string, at any depth.
pub fn metadata(field: &str, object: &Map<String, Value>) -> Result<(), ApiError> {
    fn clean(value: &Value) -> bool {
        match value {
            Value::String(s) => !s.contains('\0'),
            Value::Array(items) => items.iter().all(clean),
            Value::Object(map) => map.iter().all(|(k, v)| !k.contains('\0') && clean(v)),
            _ => true,
        }
    }
    if object.iter().all(|(k, v)| !k.contains('\0') && clean(v)) {
        Ok(())
    } else {
        Err(ApiError::Validation(format!(
            "{field} cannot contain the NUL character (\\u0000)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn emails_are_validated_as_gotrue_does() {
        assert_eq!(email("Alice@Example.COM").unwrap(), "alice@example.com");
        assert_eq!(email("a@localhost").unwrap(), "a@localhost");
        for bad in [
            " a@b.c", "a@b.c ", "a\0@b.c", "ä@b.c", "a@-b.c", "a@b..c", "ab.c", "a@b@c",
        ] {
            assert_eq!(
                email(bad).unwrap_err().to_string(),
                "Unable to validate email address: invalid format",
                "{bad:?}"
            );
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(
            email(&long).unwrap_err().to_string(),
            "An email address is too long"
        );
        assert_eq!(
            email("").unwrap_err().to_string(),
            "An email address is required"
        );
    }

    #[test]
    fn text_postgres_would_refuse_is_refused() {
        short_text("role", &"r".repeat(255)).unwrap();
        assert!(short_text("role", &"r".repeat(256)).is_err());
        // Characters, as varchar counts them, not bytes.
        short_text("role", &"é".repeat(255)).unwrap();
        assert_eq!(
            short_text("role", "a\0").unwrap_err().to_string(),
            "role cannot contain the NUL character (\\u0000)"
        );
        let nested = json!({"a": [{"b": "x\u{0}"}]});
        assert!(metadata("data", nested.as_object().unwrap()).is_err());
        let key = json!({"k\u{0}": 1});
        assert!(metadata("data", key.as_object().unwrap()).is_err());
        metadata(
            "data",
            json!({"a": ["\u{fffd}", 1, null]}).as_object().unwrap(),
        )
        .unwrap();
    }
}
