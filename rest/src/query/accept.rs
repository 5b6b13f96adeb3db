//! `Accept` as PostgREST reads it: wai-extra's `parseHttpAccept` (split at `,`, spaces
//! dropped, sorted by q-value and then by specificity, ties in header order, `q=0` kept last
//! rather than refused) and PostgREST's `decodeMediaType` (case-insensitive type and subtype,
//! parameters `nulls`, `for`, `options`).
//!
//! The names PGRST107 lists are PostgREST's `toMime` of what it decoded, not the header's
//! text: `application/vnd.pgrst.array+json` is listed as `application/json`.

use super::ast::{MediaType, RawMedia};

/// A decoded media type, richer than [`MediaType`] so that it can be named as PostgREST
/// names it.
#[derive(Debug, Clone, PartialEq)]
enum Decoded {
    Json,
    GeoJson,
    Csv,
    TextPlain,
    TextXml,
    OpenApi,
    UrlEncoded,
    OctetStream,
    Any,
    Other(String),
    /// `vnd.pgrst.array+json`; without `nulls=stripped` PostgREST's `MTApplicationJSON`.
    Array {
        strip_nulls: bool,
    },
    Single {
        strip_nulls: bool,
    },
    Plan {
        of: Box<Decoded>,
        json: bool,
        options: Vec<&'static str>,
    },
}

impl Decoded {
    /// PostgREST's `toMime`.
    fn mime(&self) -> String {
        match self {
            Decoded::Json | Decoded::Array { strip_nulls: false } => "application/json".into(),
            Decoded::Array { strip_nulls: true } => {
                "application/vnd.pgrst.array+json;nulls=stripped".into()
            }
            Decoded::GeoJson => "application/geo+json".into(),
            Decoded::Csv => "text/csv".into(),
            Decoded::TextPlain => "text/plain".into(),
            Decoded::TextXml => "text/xml".into(),
            Decoded::OpenApi => "application/openapi+json".into(),
            Decoded::Single { strip_nulls: true } => {
                "application/vnd.pgrst.object+json;nulls=stripped".into()
            }
            Decoded::Single { strip_nulls: false } => "application/vnd.pgrst.object+json".into(),
            Decoded::UrlEncoded => "application/x-www-form-urlencoded".into(),
            Decoded::OctetStream => "application/octet-stream".into(),
            Decoded::Any => "*/*".into(),
            Decoded::Other(text) => text.clone(),
            Decoded::Plan { of, json, options } => {
                let mut out = format!(
                    "application/vnd.pgrst.plan+{}; for=\"{}\"",
                    if *json { "json" } else { "text" },
                    of.mime()
                );
                if !options.is_empty() {
                    out.push_str("; options=");
                    out.push_str(&options.join("|"));
                }
                out
            }
        }
    }

    /// What this server can produce of it.
    fn producible(&self) -> Option<MediaType> {
        Some(match self {
            Decoded::Json | Decoded::Any => MediaType::Json,
            Decoded::GeoJson => MediaType::GeoJson,
            Decoded::Csv => MediaType::Csv,
            Decoded::TextPlain => MediaType::Raw(RawMedia::TextPlain),
            Decoded::TextXml => MediaType::Raw(RawMedia::TextXml),
            Decoded::OctetStream => MediaType::Raw(RawMedia::OctetStream),
            Decoded::OpenApi => MediaType::OpenApi,
            Decoded::Array { strip_nulls } => MediaType::Array {
                strip_nulls: *strip_nulls,
            },
            Decoded::Single { strip_nulls } => MediaType::SingleObject {
                strip_nulls: *strip_nulls,
            },
            Decoded::Plan { .. } => MediaType::Plan,
            Decoded::UrlEncoded | Decoded::Other(_) => return None,
        })
    }
}

/// `parseHttpAccept`: the elements, best first.
fn sorted_elements(header: &str) -> Vec<String> {
    if header.is_empty() {
        return Vec::new();
    }
    let mut elements: Vec<(String, f64, i64)> = header
        .split(',')
        .map(|element| {
            let compact: String = element.chars().filter(|&c| c != ' ').collect();
            let (media, q) = match compact.find(";q=") {
                Some(at) => {
                    let after = &compact[at + 3..];
                    let q_text = after.split(';').next().unwrap_or_default();
                    (compact[..at].to_owned(), read_q(q_text))
                }
                None => (compact, 1.0),
            };
            let semicolons = media.matches(';').count() as i64;
            let stars = media.matches('*').count() as i64;
            (media, q, semicolons - stars)
        })
        .collect();
    // Stable: equal keys keep header order.
    elements.sort_by(|a, b| {
        (b.1, b.2)
            .partial_cmp(&(a.1, a.2))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    elements.into_iter().map(|(media, _, _)| media).collect()
}

/// `reads :: ReadS Double` on the q-value's text, 1.0 when it does not start with a number.
fn read_q(text: &str) -> f64 {
    let t = text.trim_start();
    for word in ["NaN", "Infinity"] {
        if t.starts_with(word) {
            return word.parse().unwrap_or(1.0);
        }
    }
    let bytes = t.as_bytes();
    let digits_from = |mut i: usize| {
        let start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        (i > start).then_some(i)
    };
    let sign = usize::from(bytes.first() == Some(&b'-'));
    let Some(mut end) = digits_from(sign) else {
        return 1.0;
    };
    if bytes.get(end) == Some(&b'.')
        && let Some(e) = digits_from(end + 1)
    {
        end = e;
    }
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        let signed = usize::from(matches!(bytes.get(end + 1), Some(b'+' | b'-')));
        if let Some(e) = digits_from(end + 1 + signed) {
            end = e;
        }
    }
    t[..end].parse().unwrap_or(1.0)
}

/// A media type's type, subtype and parameters (names lowercased).
type Tokens = (String, String, Vec<(String, String)>);

/// `tokenizeMediaType`: `type/subtype` and `; key=value` parameters (quoted or not); None
/// when even the type does not read. What follows the last parameter is ignored.
fn tokenize(text: &str) -> Option<Tokens> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let take = |i: &mut usize, ok: &dyn Fn(char) -> bool| {
        let start = *i;
        while chars.get(*i).is_some_and(|&c| ok(c)) {
            *i += 1;
        }
        chars[start..*i].iter().collect::<String>()
    };
    let main = take(&mut i, &|c| c.is_alphanumeric() || ".*".contains(c));
    if main.is_empty() || chars.get(i) != Some(&'/') {
        return None;
    }
    i += 1;
    let sub = take(&mut i, &|c| c.is_alphanumeric() || ".*+-".contains(c));
    if sub.is_empty() {
        return None;
    }
    let mut params = Vec::new();
    loop {
        // `try (spaces *> char ';' *> spaces *> pKeyVal)`: all or nothing.
        let mut j = i;
        take(&mut j, &|c| c.is_whitespace());
        if chars.get(j) != Some(&';') {
            break;
        }
        j += 1;
        take(&mut j, &|c| c.is_whitespace());
        let key = take(&mut j, &|c| c.is_alphanumeric() || c == '-');
        take(&mut j, &|c| c.is_whitespace());
        if key.is_empty() || chars.get(j) != Some(&'=') {
            break;
        }
        j += 1;
        take(&mut j, &|c| c.is_whitespace());
        let value = if chars.get(j) == Some(&'"') {
            match chars[j + 1..].iter().position(|&c| c == '"') {
                Some(len) => {
                    let v: String = chars[j + 1..j + 1 + len].iter().collect();
                    j += len + 2;
                    v
                }
                None => break,
            }
        } else {
            let v = take(&mut j, &|c| c.is_alphanumeric() || "|-".contains(c));
            if v.is_empty() {
                break;
            }
            v
        };
        params.push((key.to_lowercase(), value));
        i = j;
    }
    Some((main, sub, params))
}

/// `decodeMediaType`.
fn decode(text: &str) -> Decoded {
    let (main, sub, params) =
        tokenize(text).unwrap_or_else(|| (text.to_owned(), String::new(), Vec::new()));
    // `Map.fromList`: the last of a repeated parameter wins.
    let param = |name: &str| {
        params
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let strip_nulls = param("nulls") == Some("stripped");
    let plan = |json: bool| {
        let options: Vec<&str> = param("options").unwrap_or_default().split('|').collect();
        Decoded::Plan {
            of: Box::new(decode(param("for").unwrap_or("application/json"))),
            json,
            options: ["analyze", "verbose", "settings", "buffers", "wal"]
                .into_iter()
                .filter(|o| options.contains(o))
                .collect(),
        }
    };
    match (main.to_lowercase().as_str(), sub.to_lowercase().as_str()) {
        ("application", "json") => Decoded::Json,
        ("application", "geo+json") => Decoded::GeoJson,
        ("text", "csv") => Decoded::Csv,
        ("text", "plain") => Decoded::TextPlain,
        ("text", "xml") => Decoded::TextXml,
        ("application", "openapi+json") => Decoded::OpenApi,
        ("application", "x-www-form-urlencoded") => Decoded::UrlEncoded,
        ("application", "octet-stream") => Decoded::OctetStream,
        ("application", "vnd.pgrst.plan" | "vnd.pgrst.plan+text") => plan(false),
        ("application", "vnd.pgrst.plan+json") => plan(true),
        ("application", "vnd.pgrst.object+json" | "vnd.pgrst.object") => {
            Decoded::Single { strip_nulls }
        }
        ("application", "vnd.pgrst.array+json" | "vnd.pgrst.array") => {
            Decoded::Array { strip_nulls }
        }
        ("*", "*") => Decoded::Any,
        _ => Decoded::Other(text.to_owned()),
    }
}

fn decoded(header: Option<&str>) -> Vec<Decoded> {
    match header {
        None => vec![Decoded::Any],
        Some(h) => sorted_elements(h).iter().map(|e| decode(e)).collect(),
    }
}

/// Every media type asked for, named as PostgREST names them in PGRST107, best first.
pub(crate) fn asked(header: Option<&str>) -> Vec<String> {
    decoded(header).iter().map(Decoded::mime).collect()
}

/// The producible ones, best first (possibly none).
pub(crate) fn producible(header: Option<&str>) -> Vec<MediaType> {
    decoded(header)
        .iter()
        .filter_map(Decoded::producible)
        .collect()
}

#[cfg(test)]
mod tests;
