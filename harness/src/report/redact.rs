//! Stable placeholders for everything that changes between runs and machines.
//!
//! Values the runner knows (user ids, emails, tokens, keys, captures, URLs) are replaced by their
//! names; values it cannot know (a session id nobody captured, a timestamp, a port) by patterns.
//! Unknown UUIDs are numbered by first appearance, so "the same id twice" stays visible.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

static JWT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*").unwrap());
static UUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b").unwrap()
});
static TIMESTAMP: LazyLock<Regex> = LazyLock::new(|| {
    // `,123`: Python's logging writes its milliseconds after a comma.
    Regex::new(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}([.,]\d+)?(Z|[+-]\d{2}(:?\d{2})?)?").unwrap()
});
/// Terminal colours a service prints even into a pipe (a forced `--use-colors`, `FORCE_COLOR`).
static ANSI: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\x1b\[[0-9;]*[A-Za-z]").unwrap());
static LOOPBACK_PORT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(127\.0\.0\.1|localhost|\[::1\]):\d+").unwrap());
/// libpq's way of naming a server, which PostgREST's PGRST000 details quote:
/// `connection to server at "127.0.0.1", port 41234 failed` (its quotes escaped inside JSON).
static LIBPQ_PORT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(\\?"(?:127\.0\.0\.1|localhost|::1)\\?"), port \d+"#).unwrap());
/// A driver's account of a reply cut short: how far into which message the cut fell depends on
/// what the pooled connection did just before (a background ping), not on the fault.
static CUT_SHORT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"expected to read \d+ bytes, got \d+ bytes").unwrap());

/// JSON fields whose values are per-run by nature (issued tokens, clocks).
const DYNAMIC_FIELDS: &[&str] = &[
    "access_token",
    "refresh_token",
    "expires_at",
    "created_at",
    "updated_at",
    "last_sign_in_at",
    "email_confirmed_at",
    "confirmed_at",
    "confirmation_sent_at",
    "recovery_sent_at",
    "invited_at",
    "iat",
    "exp",
    "error_id",
    "timestamp",
];

/// Redacts one scenario's exchanges; keeps its numbering across calls.
#[derive(Debug, Default)]
pub struct Redactor {
    /// (value, name), longest value first so a token is replaced before any part of it.
    known: Vec<(String, String)>,
    /// (value, replacement as written), for one exchange only (see [`Redactor::scope`]).
    scoped: Vec<(String, String)>,
    uuids: HashMap<String, String>,
}

impl Redactor {
    /// Teaches the redactor a value and the name it stands for, e.g. `alice.id`.
    pub fn know(&mut self, value: impl Into<String>, name: impl Into<String>) {
        let value = value.into();
        if value.is_empty() || self.known.iter().any(|(known, _)| *known == value) {
            return;
        }
        self.known.push((value, name.into()));
        self.known
            .sort_by_key(|(value, _)| std::cmp::Reverse(value.len()));
    }

    /// Phrases replaced (by the text given, verbatim) only in what comes next: one exchange's
    /// response, log lines and failures, until [`Redactor::end_scope`]. For phrases that mean
    /// one thing for one token and another for the next, like an algorithm's signature error.
    pub fn scope(&mut self, pairs: Vec<(String, String)>) {
        self.scoped = pairs;
    }

    pub fn end_scope(&mut self) {
        self.scoped.clear();
    }

    /// Redacts free text: a header value, a log line, a body that is not JSON.
    pub fn text(&mut self, text: &str) -> String {
        let mut text = text.to_owned();
        for (value, replacement) in &self.scoped {
            text = text.replace(value.as_str(), replacement);
        }
        for (value, name) in &self.known {
            if text.contains(value.as_str()) {
                text = text.replace(value.as_str(), &format!("[{name}]"));
            }
        }
        let text = ANSI.replace_all(&text, "");
        let text = JWT.replace_all(&text, "[jwt]");
        let text = TIMESTAMP.replace_all(&text, "[timestamp]");
        let text = LOOPBACK_PORT.replace_all(&text, "$1:[port]");
        let text = LIBPQ_PORT.replace_all(&text, "$1, port [port]");
        let text = CUT_SHORT
            .replace_all(&text, "expected to read [n] bytes, got [n] bytes")
            .into_owned();
        UUID.replace_all(&text, |captures: &regex::Captures| {
            let next = self.uuids.len() + 1;
            self.uuids
                .entry(captures[0].to_ascii_lowercase())
                .or_insert_with(|| format!("[uuid-{next}]"))
                .clone()
        })
        .into_owned()
    }

    /// Redacts a response body: JSON is pretty-printed with dynamic fields named, the rest as text.
    pub fn body(&mut self, body: &str) -> String {
        match serde_json::from_str::<serde_json::Value>(body) {
            Ok(mut json) if !body.trim().is_empty() => {
                redact_fields(&mut json);
                let pretty = serde_json::to_string_pretty(&json).expect("JSON serialises");
                self.text(&pretty)
            }
            _ => self.text(body),
        }
    }
}

fn redact_fields(json: &mut serde_json::Value) {
    match json {
        serde_json::Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if DYNAMIC_FIELDS.contains(&key.as_str()) && !value.is_null() {
                    *value = serde_json::Value::String(format!("[{key}]"));
                } else {
                    redact_fields(value);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_fields),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_become_their_names_longest_first() {
        let mut redactor = Redactor::default();
        redactor.know("abc", "short");
        redactor.know("abcdef", "alice.token.valid");
        assert_eq!(
            redactor.text("Bearer abcdef / abc"),
            "Bearer [alice.token.valid] / [short]"
        );
    }

    #[test]
    fn unknown_uuids_are_numbered_by_first_appearance() {
        let mut redactor = Redactor::default();
        let a = "0b6b5a52-1d43-4c5e-9c49-3f0b0c9c1a10";
        let b = "7A9E1C00-0000-4000-8000-000000000001";
        let text = format!("{a} {b} {a}");
        assert_eq!(redactor.text(&text), "[uuid-1] [uuid-2] [uuid-1]");
        // The numbering holds across the whole scenario.
        assert_eq!(redactor.text(&b.to_lowercase()), "[uuid-2]");
    }

    #[test]
    fn ports_timestamps_and_jwts_are_masked() {
        let mut redactor = Redactor::default();
        let text =
            "http://127.0.0.1:54321/user at 2026-11-24T20:11:46.123456Z with eyJhbGc.eyJzdWIi.c2ln";
        assert_eq!(
            redactor.text(text),
            "http://127.0.0.1:[port]/user at [timestamp] with [jwt]"
        );
    }

    #[test]
    fn libpq_names_a_server_by_host_and_port_and_the_port_is_masked() {
        let mut redactor = Redactor::default();
        let text = r#"connection to server at "127.0.0.1", port 40025 failed: reset"#;
        assert_eq!(
            redactor.text(text),
            r#"connection to server at "127.0.0.1", port [port] failed: reset"#
        );
        let body = r#"{"details":"connection to server at \"127.0.0.1\", port 40025 failed"}"#;
        assert!(
            redactor
                .body(body)
                .contains(r#"\"127.0.0.1\", port [port] failed"#)
        );
    }

    #[test]
    fn a_python_log_line_loses_its_clock_colours_and_client_port() {
        let mut redactor = Redactor::default();
        let line = "2026-11-24 20:11:46,123 INFO \x1b[32m200\x1b[0m 127.0.0.1:51234 - \"POST /x\"";
        assert_eq!(
            redactor.text(line),
            "[timestamp] INFO 200 127.0.0.1:[port] - \"POST /x\""
        );
    }

    #[test]
    fn byte_counts_of_a_cut_reply_are_masked() {
        let mut redactor = Redactor::default();
        assert_eq!(
            redactor.text(
                "error communicating with database: expected to read 449 bytes, got 36 bytes at EOF"
            ),
            "error communicating with database: expected to read [n] bytes, got [n] bytes at EOF"
        );
    }

    #[test]
    fn json_bodies_are_pretty_with_dynamic_fields_named() {
        let mut redactor = Redactor::default();
        redactor.know("alice-1@example.test", "alice.email");
        let body = r#"{"email":"alice-1@example.test","expires_at":1790000000,"refresh_token":"abcdefghijkl","weak_password":null}"#;
        assert_eq!(
            redactor.body(body),
            "{\n  \"email\": \"[alice.email]\",\n  \"expires_at\": \"[expires_at]\",\n  \
             \"refresh_token\": \"[refresh_token]\",\n  \"weak_password\": null\n}"
        );
    }

    #[test]
    fn non_json_bodies_are_redacted_as_text() {
        let mut redactor = Redactor::default();
        assert_eq!(
            redactor.body("404 page not found\n"),
            "404 page not found\n"
        );
    }
}
