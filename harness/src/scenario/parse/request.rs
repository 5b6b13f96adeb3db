//! A step's request and expectations: target, method, path, headers, body, captures, `expect`.

use std::fmt;
use std::ops::Range;

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

use super::{ParseError, RawStep, Source};
use crate::scenario::{Body, Expect, Request, Target, Template};

/// A table for the common case, or `[name, value]` pairs when a header repeats.
pub(super) struct RawHeaders(Vec<(String, Spanned<String>)>);

// By hand rather than `#[serde(untagged)]`: untagged enums buffer their input and lose the spans.
impl<'de> Deserialize<'de> for RawHeaders {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HeadersVisitor;
        impl<'de> serde::de::Visitor<'de> for HeadersVisitor {
            type Value = RawHeaders;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a table of headers or an array of [name, value] pairs")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RawHeaders, A::Error> {
                let mut headers = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    headers.push(entry);
                }
                Ok(RawHeaders(headers))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<RawHeaders, A::Error> {
                let mut headers = Vec::new();
                while let Some(pair) = seq.next_element()? {
                    headers.push(pair);
                }
                Ok(RawHeaders(headers))
            }
        }
        deserializer.deserialize_any(HeadersVisitor)
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExpect {
    no_answer: Option<Spanned<bool>>,
    status: Option<u16>,
    #[serde(default)]
    headers: IndexMap<String, Spanned<String>>,
    #[serde(default)]
    json: IndexMap<String, Spanned<toml::Value>>,
    #[serde(default)]
    body_contains: Vec<Spanned<String>>,
    #[serde(default)]
    sql: IndexMap<String, Spanned<toml::Value>>,
}

pub(super) fn request(
    source: &Source,
    raw: &Spanned<RawStep>,
    stages: &[&str],
) -> Result<Request, ParseError> {
    let span = raw.span();
    let raw = raw.get_ref();
    let target = match (&raw.stage, &raw.target, &raw.url) {
        (Some(stage), None, None) => {
            if !stages.contains(&stage.get_ref().as_str()) {
                return Err(source.error(
                    stage.span(),
                    format!(
                        "unknown stage `{}`: expected one of {}",
                        stage.get_ref(),
                        stages.join(", ")
                    ),
                ));
            }
            Target::Stage(stage.get_ref().clone())
        }
        (None, Some(target), None) if target.get_ref() == "auth" => Target::Auth,
        (None, Some(target), None) if target.get_ref() == "api" => Target::Api,
        (None, Some(target), None) => {
            return Err(source.error(
                target.span(),
                format!(
                    "unknown target `{}`: expected `api` or `auth` (or use `stage` or `url`)",
                    target.get_ref()
                ),
            ));
        }
        (None, None, Some(url)) => Target::Url(source.template(url)?),
        _ => {
            return Err(source.error(
                span,
                format!(
                    "step `{}` needs exactly one of `stage`, `target` or `url`",
                    raw.name
                ),
            ));
        }
    };

    let Some(raw_method) = &raw.method else {
        return Err(source.error(span, format!("step `{}` needs a `method`", raw.name)));
    };
    let method = raw_method.get_ref();
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(source.error(
            raw_method.span(),
            format!("invalid method `{method}`: expected an uppercase HTTP method such as POST"),
        ));
    }
    let path = match &raw.path {
        Some(path) => source.template(path)?,
        None if matches!(target, Target::Url(_)) => Template::parse("").expect("empty template"),
        None => return Err(source.error(span, format!("step `{}` needs a `path`", raw.name))),
    };

    let headers = match &raw.headers {
        None => Vec::new(),
        Some(headers) => header_list(source, headers)?,
    };
    let body = match (&raw.body, &raw.json) {
        (Some(_), Some(json)) => {
            return Err(source.error(json.span(), "a step has either `body` or `json`, not both"));
        }
        (Some(body), None) => Some(Body::Raw(source.template(body)?)),
        (None, Some(json)) => Some(Body::Json(json_value(source, json.get_ref(), json.span())?)),
        (None, None) => None,
    };
    let captures = raw
        .capture
        .iter()
        .map(|(name, field)| (name.clone(), field.clone()))
        .collect();
    let expect = match &raw.expect {
        None => Expect::default(),
        Some(expect) => self::expect(source, expect)?,
    };
    Ok(Request {
        target,
        method: method.clone(),
        path,
        headers,
        body,
        captures,
        expect,
    })
}

fn header_list(
    source: &Source,
    headers: &Spanned<RawHeaders>,
) -> Result<Vec<(String, Template)>, ParseError> {
    let RawHeaders(pairs) = headers.get_ref();
    pairs
        .iter()
        .map(|(name, value)| Ok((name.clone(), source.template(value)?)))
        .collect()
}

fn expect(source: &Source, raw: &Spanned<RawExpect>) -> Result<Expect, ParseError> {
    let span = raw.span();
    let raw = raw.get_ref();
    let json_of = |value: &Spanned<toml::Value>| json_value(source, value.get_ref(), value.span());
    let no_answer = raw.no_answer.as_ref().is_some_and(|flag| *flag.get_ref());
    if let Some(flag) = &raw.no_answer
        && no_answer
        && (raw.status.is_some()
            || !raw.headers.is_empty()
            || !raw.json.is_empty()
            || !raw.body_contains.is_empty())
    {
        return Err(source.error(
            flag.span(),
            "`no_answer` expects no response: it excludes status, headers, json and body_contains",
        ));
    }
    Ok(Expect {
        no_answer,
        status: raw.status,
        headers: raw
            .headers
            .iter()
            .map(|(name, value)| Ok((name.to_ascii_lowercase(), source.template(value)?)))
            .collect::<Result<_, ParseError>>()?,
        json: raw
            .json
            .iter()
            .map(|(path, value)| Ok((path.clone(), json_of(value)?)))
            .collect::<Result<_, ParseError>>()?,
        body_contains: raw
            .body_contains
            .iter()
            .map(|text| source.template(text))
            .collect::<Result<_, _>>()?,
        sql: raw
            .sql
            .iter()
            .map(|(query, value)| {
                Ok((
                    source.template_within(query, span.clone())?,
                    json_of(value)?,
                ))
            })
            .collect::<Result<_, ParseError>>()?,
    })
}

/// Converts TOML to JSON, checking the templates inside every string on the way.
fn json_value(
    source: &Source,
    value: &toml::Value,
    span: Range<usize>,
) -> Result<serde_json::Value, ParseError> {
    Ok(match value {
        toml::Value::String(text) => {
            source.template_within(text, span)?;
            serde_json::Value::String(text.clone())
        }
        toml::Value::Integer(number) => serde_json::Value::from(*number),
        toml::Value::Float(number) => serde_json::Value::from(*number),
        toml::Value::Boolean(flag) => serde_json::Value::Bool(*flag),
        toml::Value::Datetime(datetime) => serde_json::Value::String(datetime.to_string()),
        toml::Value::Array(items) => serde_json::Value::Array(
            items
                .iter()
                .map(|item| json_value(source, item, span.clone()))
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(table) => serde_json::Value::Object(
            table
                .iter()
                .map(|(key, item)| Ok((key.clone(), json_value(source, item, span.clone())?)))
                .collect::<Result<_, ParseError>>()?,
        ),
    })
}
