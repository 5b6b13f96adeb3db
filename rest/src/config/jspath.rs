//! `PGRST_JWT_ROLE_CLAIM_KEY`: PostgREST's small JSPath, where the role is in the claims.
//!
//! Forms: `.role`, `."https://example.com/role"`, `.app_metadata.roles[0]`, and on a final
//! array a string filter `[?(@ == "admin")]` (also `!=`, `^==` starts with, `==^` ends with,
//! `*==` contains). Hand-written: it is a dozen lines of grammar no crate implements.

use serde_json::Value;

/// One step of the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsPathStep {
    Key(String),
    Index(usize),
    /// The first string element of an array for which the condition holds.
    Filter(FilterOp, String),
}

/// A string filter's comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOp {
    Equals,
    NotEquals,
    StartsWith,
    EndsWith,
    Contains,
}

/// A parsed role claim key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsPath(pub Vec<JsPathStep>);

impl JsPath {
    /// PostgREST's default, `.role`.
    pub fn role() -> JsPath {
        JsPath(vec![JsPathStep::Key("role".into())])
    }

    /// Parses `.a."b c"[0]`; the error says where it stopped.
    pub fn parse(text: &str) -> Result<JsPath, String> {
        let mut steps = Vec::new();
        let mut rest = text.trim();
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('.') {
                if let Some(quoted) = after.strip_prefix('"') {
                    let end = quoted
                        .find('"')
                        .ok_or_else(|| format!("unterminated quoted key in {text:?}"))?;
                    steps.push(JsPathStep::Key(quoted[..end].to_owned()));
                    rest = &quoted[end + 1..];
                } else {
                    let end = after.find(['.', '[']).unwrap_or(after.len());
                    if end == 0 {
                        return Err(format!("empty key in {text:?}"));
                    }
                    steps.push(JsPathStep::Key(after[..end].to_owned()));
                    rest = &after[end..];
                }
            } else if let Some(after) = rest.strip_prefix("[?(@") {
                let end = after
                    .find(")]")
                    .ok_or_else(|| format!("unterminated filter in {text:?}"))?;
                steps.push(filter(after[..end].trim(), text)?);
                rest = &after[end + 2..];
            } else if let Some(after) = rest.strip_prefix('[') {
                let end = after
                    .find(']')
                    .ok_or_else(|| format!("unterminated index in {text:?}"))?;
                let index = after[..end].trim().parse().map_err(|_| {
                    format!("index {:?} in {text:?} is not a number", &after[..end])
                })?;
                steps.push(JsPathStep::Index(index));
                rest = &after[end + 1..];
            } else {
                return Err(format!(
                    "expected '.key', '[index]' or '[?(@ == \"value\")]' at {rest:?} in {text:?}"
                ));
            }
        }
        if steps.is_empty() {
            return Err("the role claim key is empty".into());
        }
        Ok(JsPath(steps))
    }

    /// The value at this path in `claims`, if any.
    pub fn walk<'a>(&self, claims: &'a Value) -> Option<&'a Value> {
        let mut current = claims;
        for (i, step) in self.0.iter().enumerate() {
            current = match step {
                JsPathStep::Key(k) => current.as_object()?.get(k)?,
                JsPathStep::Index(n) => current.as_array()?.get(*n)?,
                // A filter only applies as the last step, as in PostgREST.
                JsPathStep::Filter(op, pattern) if i + 1 == self.0.len() => current
                    .as_array()?
                    .iter()
                    .find(|v| v.as_str().is_some_and(|s| op.matches(s, pattern)))?,
                JsPathStep::Filter(..) => return None,
            };
        }
        Some(current)
    }
}

impl FilterOp {
    fn matches(self, value: &str, pattern: &str) -> bool {
        match self {
            FilterOp::Equals => value == pattern,
            FilterOp::NotEquals => value != pattern,
            FilterOp::StartsWith => value.starts_with(pattern),
            FilterOp::EndsWith => value.ends_with(pattern),
            FilterOp::Contains => value.contains(pattern),
        }
    }
}

fn filter(cond: &str, text: &str) -> Result<JsPathStep, String> {
    let ops = [
        ("^==", FilterOp::StartsWith),
        ("==^", FilterOp::EndsWith),
        ("*==", FilterOp::Contains),
        ("==", FilterOp::Equals),
        ("!=", FilterOp::NotEquals),
    ];
    for (token, op) in ops {
        if let Some(value) = cond.strip_prefix(token) {
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .ok_or_else(|| format!("filter value must be a quoted string in {text:?}"))?;
            return Ok(JsPathStep::Filter(op, value.to_owned()));
        }
    }
    Err(format!("unknown filter operator in {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_postgrest_forms() {
        assert_eq!(JsPath::parse(".role").unwrap(), JsPath::role());
        assert_eq!(
            JsPath::parse(r#"."https://x".role"#).unwrap().0,
            [
                JsPathStep::Key("https://x".into()),
                JsPathStep::Key("role".into())
            ]
        );
        assert_eq!(
            JsPath::parse(".roles[0]").unwrap().0,
            [JsPathStep::Key("roles".into()), JsPathStep::Index(0)]
        );
        assert_eq!(
            JsPath::parse(r#".roles[?(@ ^== "adm")]"#).unwrap().0[1],
            JsPathStep::Filter(FilterOp::StartsWith, "adm".into())
        );
        assert!(JsPath::parse("role").is_err());
        assert!(JsPath::parse(".roles[x]").is_err());
        assert!(JsPath::parse("").is_err());
    }

    #[test]
    fn walks_claims() {
        let claims =
            json!({"role": "anon", "https://x": {"role": "admin"}, "roles": ["a", "editor"]});
        let at = |p: &str| JsPath::parse(p).unwrap().walk(&claims).cloned();
        assert_eq!(at(".role"), Some(json!("anon")));
        assert_eq!(at(r#"."https://x".role"#), Some(json!("admin")));
        assert_eq!(at(".roles[1]"), Some(json!("editor")));
        assert_eq!(at(r#".roles[?(@ == "editor")]"#), Some(json!("editor")));
        assert_eq!(at(r#".roles[?(@ *== "dit")]"#), Some(json!("editor")));
        assert_eq!(at(".roles[5]"), None);
        assert_eq!(at(".missing"), None);
    }
}
