//! What the chaos clients send and how their answers are judged: by default the reference
//! stage's `POST /api/session/create`, its `sessionId`s in `public.sessions` and the stack's
//! timeouts; in a project, harness.toml's `[chaos]` request to the service `[invariants]` judges.

use std::time::Duration;

use reqwest::Method;

use crate::run::{InvariantSpec, ServiceTimeouts, WriteTable};

/// The request each client sends again and again, as its own user (Bearer token).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: Method,
    /// From the stage's root, starting with `/`.
    pub path: String,
    /// Sent as JSON when present.
    pub body: Option<serde_json::Value>,
}

impl Request {
    /// The reference stage's `POST /api/session/create`, without a body.
    pub fn reference() -> Request {
        Request {
            method: Method::POST,
            path: "/api/session/create".to_owned(),
            body: None,
        }
    }

    /// `POST /api/sessions`, as harness.toml's `request` writes it.
    pub fn parse(line: &str) -> Result<Request, String> {
        let (method, path) = line.trim().split_once(' ').ok_or_else(|| {
            format!("`{line}`: expected a method and a path, e.g. \"POST /api/session/create\"")
        })?;
        let method = match method {
            "GET" | "POST" | "PUT" | "PATCH" | "DELETE" => {
                Method::from_bytes(method.as_bytes()).expect("a listed method is a valid one")
            }
            other => {
                return Err(format!(
                    "`{line}`: method `{other}` is not one of GET, POST, PUT, PATCH, DELETE"
                ));
            }
        };
        let path = path.trim();
        if !path.starts_with('/') || path.chars().any(char::is_whitespace) {
            return Err(format!(
                "`{line}`: the path must start with `/` and hold no spaces, e.g. /api/sessions"
            ));
        }
        Ok(Request {
            method,
            path: path.to_owned(),
            body: None,
        })
    }
}

/// Where the clients send their request and what judges the answers.
#[derive(Debug, Clone)]
pub struct Target {
    /// The stage or service answering, as findings name it.
    pub stage: String,
    /// The stage's root URL.
    pub base_url: String,
    pub request: Request,
    /// Where each acknowledged write must be; `None`: the lost-writes invariant is not checked.
    pub writes: Option<WriteTable>,
    /// How long an answer may take under a fault; `None`: unknown, so hangs are not judged.
    pub timeouts: Option<ServiceTimeouts>,
}

/// A client gives up on a request after this long when the service's budget is unknown.
const UNKNOWN_BUDGET_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

impl Target {
    /// The reference stage, judged as the built-in scenarios judge it.
    pub fn reference(stack: &crate::Stack) -> Target {
        let spec = InvariantSpec::reference();
        Target {
            base_url: stack.stages().url(service::Stage::Reference).to_string(),
            stage: spec.stage,
            request: Request::reference(),
            writes: spec.writes,
            timeouts: Some(stack.service_timeouts()),
        }
    }

    pub fn url(&self) -> String {
        format!(
            "{}{}",
            self.base_url.trim_end_matches('/'),
            self.request.path
        )
    }

    /// Past every timeout and the margin, so a hang is recorded (and judged) not waited out.
    pub fn request_timeout(&self) -> Duration {
        self.timeouts
            .map_or(UNKNOWN_BUDGET_REQUEST_TIMEOUT, |timeouts| {
                timeouts.auth + timeouts.db + Duration::from_secs(5)
            })
    }

    /// The JSON field of a success naming the row it wrote.
    pub fn id_field(&self) -> Option<&str> {
        self.writes.as_ref().map(|writes| writes.id_field.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_line_is_a_known_method_and_an_absolute_path() {
        let parsed = Request::parse("PATCH /api/sessions?x=1").unwrap();
        assert_eq!(parsed.method, Method::PATCH);
        assert_eq!(parsed.path, "/api/sessions?x=1");
        for (line, says) in [
            ("POST", "expected a method and a path"),
            ("FETCH /x", "method `FETCH` is not one of"),
            ("post /x", "method `post` is not one of"),
            ("GET api/x", "must start with `/`"),
            ("GET /a b", "must start with `/` and hold no spaces"),
        ] {
            let error = Request::parse(line).unwrap_err();
            assert!(error.contains(says), "{line}: {error}");
        }
    }
}
