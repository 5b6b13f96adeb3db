//! `[chaos]` of harness.toml: the request `harness chaos` clients send to the service that
//! `[invariants]` judges, each as its own signed-in user.
//!
//! ```toml
//! [chaos]
//! request = "POST /api/sessions"
//! body = { device = "chaos" }     # optional, sent as JSON
//! ```

use serde::Deserialize;
use toml::Spanned;

use super::ProjectError;
use super::manifest::Source;
use crate::chaos::Request;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawChaos {
    request: Spanned<String>,
    body: Option<Spanned<toml::Value>>,
}

pub(super) fn parse(source: &Source, raw: &RawChaos) -> Result<Request, ProjectError> {
    let mut request = Request::parse(raw.request.get_ref())
        .map_err(|message| source.error(raw.request.span(), format!("chaos.request: {message}")))?;
    if let Some(body) = &raw.body {
        if !matches!(
            body.get_ref(),
            toml::Value::Table(_) | toml::Value::Array(_)
        ) {
            return Err(source.error(
                body.span(),
                "chaos.body: expected a table or an array (sent as a JSON object or array), \
                 e.g. body = { device = \"chaos\" }",
            ));
        }
        // A TOML table or array is JSON already; only datetimes have no JSON form.
        let json = serde_json::to_value(body.get_ref())
            .map_err(|error| source.error(body.span(), format!("chaos.body: not JSON: {error}")))?;
        request.body = Some(json);
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::manifest;

    fn parse(text: &str) -> Result<Option<crate::chaos::Request>, String> {
        manifest::parse(Path::new("/p/harness.toml"), text)
            .map(|parsed| parsed.chaos)
            .map_err(|error| error.to_string())
    }

    #[test]
    fn the_request_and_its_json_body_are_read() {
        let request = parse(
            "[chaos]\nrequest = \"POST /api/sessions\"\nbody = { device = \"chaos\", n = 2 }\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(request.method, reqwest::Method::POST);
        assert_eq!(request.path, "/api/sessions");
        assert_eq!(
            request.body,
            Some(serde_json::json!({"device": "chaos", "n": 2}))
        );
        assert_eq!(parse("").unwrap(), None);
    }

    #[test]
    fn a_bad_request_or_body_is_refused_with_its_line() {
        for (text, says) in [
            ("[chaos]\nrequest = \"SEND /x\"\n", "2:11"),
            (
                "[chaos]\nrequest = \"SEND /x\"\n",
                "method `SEND` is not one of",
            ),
            ("[chaos]\nrequest = \"POST /x\"\nbody = \"{}\"\n", "3:8"),
            (
                "[chaos]\nrequest = \"POST /x\"\nbody = \"{}\"\n",
                "expected a table or an array",
            ),
            ("[chaos]\nbody = {}\n", "missing field `request`"),
            (
                "[chaos]\nrequest = \"POST /x\"\nheaders = 1\n",
                "unknown field `headers`",
            ),
        ] {
            let error = parse(text).unwrap_err();
            assert!(error.contains(says), "{text:?}: {error}");
        }
    }
}
