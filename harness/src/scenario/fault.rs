//! Fault tables in scenario files (`{ proxy = "db", toxic = "latency", latency = 3000 }`) → [`Fault`],
//! and the one-line description the snapshot shows for each.
//!
//! Checked by hand rather than by serde: every key, value and attribute gets its own position,
//! and each toxic type accepts only its own attributes, which an untagged enum cannot say.

use std::fmt::Write as _;
use std::ops::Range;

use indexmap::IndexMap;
use toml::Spanned;

use super::parse::{ParseError, Source};
use crate::faults::{
    AuthHttpFault, Dependency, Fault, NetworkAction, ProcessAction, Stream, ToxicKind, ToxicSpec,
};

/// A fault table as written, every key and value with its span.
pub(super) type RawFault = Spanned<IndexMap<Spanned<String>, Spanned<toml::Value>>>;

/// The attributes each toxic type takes, as Toxiproxy names them.
fn attributes_of(kind: ToxicKind) -> &'static [&'static str] {
    match kind {
        ToxicKind::Latency => &["latency", "jitter"],
        ToxicKind::Timeout | ToxicKind::ResetPeer => &["timeout"],
        ToxicKind::SlowClose => &["delay"],
        ToxicKind::Bandwidth => &["rate"],
        ToxicKind::Slicer => &["average_size", "size_variation", "delay"],
        ToxicKind::LimitData => &["bytes"],
        ToxicKind::Down => &[],
    }
}

const FAMILIES: &str = "`proxy`, `process`, `network` or `auth_http`";

pub(super) fn fault(source: &Source, raw: &RawFault) -> Result<Fault, ParseError> {
    let table = raw.get_ref();
    let families: Vec<&Spanned<String>> = table
        .keys()
        .filter(|key| {
            ["proxy", "process", "network", "auth_http"].contains(&key.get_ref().as_str())
        })
        .collect();
    let family = match families.as_slice() {
        [one] => *one,
        [] => {
            return Err(source.error(raw.span(), format!("a fault needs one of {FAMILIES}")));
        }
        [_, second, ..] => {
            return Err(source.error(
                second.span(),
                format!("a fault has exactly one of {FAMILIES}"),
            ));
        }
    };
    let fields = Fields { source, table };
    match family.get_ref().as_str() {
        "proxy" => proxy(&fields, raw.span()),
        "process" => {
            let dependency = fields.dependency("process")?;
            let action = fields.required("action", raw.span(), |action: &str| {
                ProcessAction::from_name(action).ok_or_else(|| {
                    format!(
                        "unknown process action `{action}`: expected one of {}",
                        names(ProcessAction::ALL.map(ProcessAction::name))
                    )
                })
            })?;
            fields.only(&["process", "action"])?;
            Ok(Fault::Process { dependency, action })
        }
        "network" => {
            let dependency = fields.dependency("network")?;
            let action = fields.required("action", raw.span(), |action: &str| {
                NetworkAction::from_name(action).ok_or_else(|| {
                    format!("unknown network action `{action}`: expected disconnect, reconnect")
                })
            })?;
            fields.only(&["network", "action"])?;
            Ok(Fault::Network { dependency, action })
        }
        _ => {
            let fault = fields.required("auth_http", raw.span(), |name: &str| {
                AuthHttpFault::from_name(name).ok_or_else(|| {
                    format!(
                        "unknown auth_http fault `{name}`: expected one of {}",
                        names(AuthHttpFault::ALL.map(AuthHttpFault::name))
                    )
                })
            })?;
            fields.only(&["auth_http"])?;
            Ok(Fault::AuthHttp(fault))
        }
    }
}

fn proxy(fields: &Fields, span: Range<usize>) -> Result<Fault, ParseError> {
    let dependency = fields.dependency("proxy")?;
    let kind = fields.required("toxic", span, |toxic: &str| {
        ToxicKind::from_name(toxic).ok_or_else(|| {
            format!(
                "unknown toxic `{toxic}`: expected one of {}",
                names(ToxicKind::ALL.map(ToxicKind::name))
            )
        })
    })?;
    // `down` takes nothing, not even stream or toxicity; the stack disables the proxy for it.
    if kind == ToxicKind::Down {
        fields.only(&["proxy", "toxic"])?;
        return Ok(Fault::Down { dependency });
    }
    let stream = match fields.get("stream") {
        None => Stream::Downstream,
        Some(value) => match value.get_ref().as_str() {
            Some("downstream") => Stream::Downstream,
            Some("upstream") => Stream::Upstream,
            _ => {
                return Err(fields
                    .source
                    .error(value.span(), "`stream` is \"upstream\" or \"downstream\""));
            }
        },
    };
    let toxicity = match fields.get("toxicity") {
        None => 1.0,
        Some(value) => {
            let number = match value.get_ref() {
                toml::Value::Float(number) => Some(*number),
                toml::Value::Integer(number) => Some(*number as f64),
                _ => None,
            };
            match number {
                Some(number) if (0.0..=1.0).contains(&number) => number as f32,
                _ => {
                    return Err(fields
                        .source
                        .error(value.span(), "`toxicity` is a probability from 0 to 1"));
                }
            }
        }
    };
    let allowed = attributes_of(kind);
    let mut attributes = serde_json::Map::new();
    for (key, value) in fields.table {
        let key_name = key.get_ref().as_str();
        if ["proxy", "toxic", "stream", "toxicity"].contains(&key_name) {
            continue;
        }
        if !allowed.contains(&key_name) {
            return Err(fields.source.error(
                key.span(),
                format!(
                    "unknown attribute `{key_name}` for toxic `{}`: expected {}",
                    kind.name(),
                    names(allowed.iter().copied())
                ),
            ));
        }
        match value.get_ref() {
            toml::Value::Integer(number) if *number >= 0 => {
                attributes.insert(key_name.to_owned(), serde_json::Value::from(*number));
            }
            _ => {
                return Err(fields.source.error(
                    value.span(),
                    format!("`{key_name}` is a whole number, 0 or more"),
                ));
            }
        }
    }
    Ok(Fault::Toxic {
        dependency,
        toxic: ToxicSpec {
            name: format!("{}_{}", kind.name(), stream_name(stream)),
            kind,
            stream,
            toxicity,
            attributes,
        },
    })
}

/// One fault table, read key by key.
struct Fields<'a> {
    source: &'a Source<'a>,
    table: &'a IndexMap<Spanned<String>, Spanned<toml::Value>>,
}

impl Fields<'_> {
    fn get(&self, name: &str) -> Option<&Spanned<toml::Value>> {
        self.table
            .iter()
            .find(|(key, _)| key.get_ref() == name)
            .map(|(_, value)| value)
    }

    /// The string under `name`, turned into `T` by `convert` (whose error points at the value).
    fn required<T>(
        &self,
        name: &str,
        table: Range<usize>,
        convert: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T, ParseError> {
        let value = self.get(name).ok_or_else(|| {
            self.source
                .error(table, format!("this fault needs `{name}`"))
        })?;
        let text = value.get_ref().as_str().ok_or_else(|| {
            self.source
                .error(value.span(), format!("`{name}` is a string"))
        })?;
        convert(text).map_err(|message| self.source.error(value.span(), message))
    }

    fn dependency(&self, key: &str) -> Result<Dependency, ParseError> {
        self.required(key, 0..0, |name: &str| {
            Dependency::from_name(name).ok_or_else(|| {
                format!(
                    "unknown dependency `{name}`: expected {}",
                    Dependency::names()
                )
            })
        })
    }

    /// Rejects any key not in `allowed`, at the key.
    fn only(&self, allowed: &[&str]) -> Result<(), ParseError> {
        match self
            .table
            .keys()
            .find(|key| !allowed.contains(&key.get_ref().as_str()))
        {
            Some(key) => Err(self.source.error(
                key.span(),
                format!(
                    "unknown key `{}` in this fault: expected {}",
                    key.get_ref(),
                    names(allowed.iter().copied())
                ),
            )),
            None => Ok(()),
        }
    }
}

fn names<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names.into_iter().collect::<Vec<_>>().join(", ")
}

fn stream_name(stream: Stream) -> &'static str {
    match stream {
        Stream::Upstream => "upstream",
        Stream::Downstream => "downstream",
    }
}

/// How the snapshot names a fault: `db latency 3000 ms (downstream)`, `auth down`,
/// `process db kill`, `network auth disconnect`, `auth http 429`.
pub fn describe(fault: &Fault) -> String {
    match fault {
        Fault::Toxic { dependency, toxic } => {
            let number = |name: &str| {
                toxic
                    .attributes
                    .get(name)
                    .and_then(serde_json::Value::as_u64)
                    .unwrap_or(0)
            };
            let mut text = format!("{dependency} {} ", toxic.kind.name());
            match toxic.kind {
                ToxicKind::Latency => {
                    write!(text, "{} ms", number("latency")).unwrap();
                    if number("jitter") > 0 {
                        write!(text, " ± {} ms", number("jitter")).unwrap();
                    }
                }
                ToxicKind::Timeout | ToxicKind::ResetPeer => {
                    write!(text, "after {} ms", number("timeout")).unwrap()
                }
                ToxicKind::SlowClose => write!(text, "{} ms", number("delay")).unwrap(),
                ToxicKind::Bandwidth => write!(text, "{} KB/s", number("rate")).unwrap(),
                ToxicKind::Slicer => write!(
                    text,
                    "{} B ± {} B every {} µs",
                    number("average_size"),
                    number("size_variation"),
                    number("delay")
                )
                .unwrap(),
                ToxicKind::LimitData => write!(text, "{} B", number("bytes")).unwrap(),
                ToxicKind::Down => text.push_str("toxic"),
            }
            write!(text, " ({}", stream_name(toxic.stream)).unwrap();
            if toxic.toxicity < 1.0 {
                write!(text, ", toxicity {}", toxic.toxicity).unwrap();
            }
            text.push(')');
            text
        }
        Fault::Down { dependency } => format!("{dependency} down"),
        Fault::Process { dependency, action } => format!("process {dependency} {}", action.name()),
        Fault::Network { dependency, action } => format!("network {dependency} {}", action.name()),
        Fault::AuthHttp(fault) => format!("auth http {}", fault.name()),
    }
}
