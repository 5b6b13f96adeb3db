//! `harness.toml` text → its typed parts, with the file, line and column of anything wrong.
//!
//! Unknown keys are refused (a misspelt `ready_ulr` silently ignored would be a hang later);
//! every template name, regex, port and duration is checked here, before anything starts.

use std::{
    ops::Range,
    path::{Path, PathBuf},
    time::Duration,
};

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

use super::ProjectError;
use crate::{
    app::{
        DEFAULT_READY_TIMEOUT, DEFAULT_STOP_TIMEOUT, EnvTemplate, PortChoice, Readiness, ReadyTcp,
        ReadyUrl, ServiceSpec, StatusSet, TEMPLATE_NAMES,
    },
    run::InvariantSpec,
    scenario::Position,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    scenarios: Option<Spanned<String>>,
    snapshots: Option<Spanned<String>>,
    supabase: Option<Spanned<String>>,
    #[serde(default)]
    service: IndexMap<Spanned<String>, Spanned<RawService>>,
    invariants: Option<Spanned<super::invariants::RawInvariants>>,
    chaos: Option<super::chaos::RawChaos>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    command: Spanned<String>,
    cwd: Option<Spanned<String>>,
    #[serde(default)]
    env: IndexMap<String, Spanned<String>>,
    preset: Option<Spanned<String>>,
    port: Option<Spanned<toml::Value>>,
    #[serde(default)]
    inherit_env: Vec<Spanned<String>>,
    ready_url: Option<Spanned<String>>,
    ready_status: Option<Spanned<Vec<Spanned<toml::Value>>>>,
    ready_log: Option<Spanned<String>>,
    ready_tcp: Option<Spanned<toml::Value>>,
    ready_timeout: Option<Spanned<toml::Value>>,
    stop_timeout: Option<Spanned<toml::Value>>,
}

/// What harness.toml says, paths resolved against its folder.
pub(super) struct Manifest {
    pub scenarios: Option<PathBuf>,
    pub snapshots: Option<PathBuf>,
    /// The Supabase folder, with where it was written (for errors about it).
    pub supabase: Option<(PathBuf, Position)>,
    pub services: Vec<ServiceSpec>,
    pub invariants: InvariantSpec,
    pub chaos: Option<crate::chaos::Request>,
}

/// Turns byte offsets of one file into errors.
pub(super) struct Source<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Source<'_> {
    pub(super) fn error(&self, span: Range<usize>, message: impl Into<String>) -> ProjectError {
        ProjectError::invalid(self.path, Some(self.position(span)), message)
    }

    fn position(&self, span: Range<usize>) -> Position {
        Position::at(self.text, span.start)
    }
}

pub(super) fn parse(path: &Path, text: &str) -> Result<Manifest, ProjectError> {
    let source = Source { path, text };
    let raw: RawManifest = toml::from_str(text).map_err(|error| {
        let position = error.span().map(|span| Position::at(text, span.start));
        ProjectError::invalid(path, position, error.message().trim_end())
    })?;
    let root = path.parent().unwrap_or(Path::new("."));
    let relative = |value: &Option<Spanned<String>>| value.as_ref().map(|v| root.join(v.get_ref()));
    let mut services = Vec::new();
    for (name, table) in &raw.service {
        check_name(&source, name)?;
        services.push(service(&source, root, name.get_ref(), table)?);
    }
    let invariants = super::invariants::parse(&source, raw.invariants.as_ref(), &services)?;
    let chaos = match &raw.chaos {
        Some(chaos) => Some(super::chaos::parse(&source, chaos)?),
        None => None,
    };
    Ok(Manifest {
        invariants,
        chaos,
        scenarios: relative(&raw.scenarios),
        snapshots: relative(&raw.snapshots),
        supabase: raw
            .supabase
            .as_ref()
            .map(|dir| (root.join(dir.get_ref()), source.position(dir.span()))),
        services,
    })
}

/// A service is a scenario stage: the same alphabet, and not a built-in stage's name.
fn check_name(source: &Source, name: &Spanned<String>) -> Result<(), ProjectError> {
    let text = name.get_ref();
    let valid = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(source.error(
            name.span(),
            format!("service name `{text}`: use letters, digits, `-` or `_` (scenarios name it in `stage`)"),
        ));
    }
    if service::Stage::ALL.iter().any(|stage| stage.name() == text) || text == "auth" {
        return Err(source.error(
            name.span(),
            format!("service name `{text}` is taken by a built-in stage: choose another"),
        ));
    }
    Ok(())
}

fn service(
    source: &Source,
    root: &Path,
    name: &str,
    table: &Spanned<RawService>,
) -> Result<ServiceSpec, ProjectError> {
    let raw = table.get_ref();
    if raw.command.get_ref().trim().is_empty() {
        return Err(source.error(raw.command.span(), "command is empty"));
    }
    let template = |text: &Spanned<String>, known: &[&str]| {
        EnvTemplate::parse(text.get_ref(), known).map_err(|error| {
            // +1 skips the opening quote; exact for strings without escapes.
            let offset = text.span().start + 1 + error.offset;
            source.error(offset..offset, error.message)
        })
    };
    let mut env = Vec::new();
    for (variable, value) in &raw.env {
        env.push((variable.clone(), template(value, TEMPLATE_NAMES)?));
    }
    let preset = match &raw.preset {
        None => None,
        Some(name) => Some(
            name.get_ref()
                .parse()
                .map_err(|message: String| source.error(name.span(), message))?,
        ),
    };
    let port = match &raw.port {
        None => PortChoice::Unset,
        Some(value) => match value.get_ref() {
            toml::Value::String(text) if text == "auto" => PortChoice::Auto,
            toml::Value::Integer(n) if (1..=65535).contains(n) => PortChoice::Fixed(*n as u16),
            _ => {
                return Err(source.error(
                    value.span(),
                    "port: expected a number from 1 to 65535, or \"auto\"",
                ));
            }
        },
    };
    let ready = readiness(source, raw, &template, port)?;
    if ready.is_empty() && port == PortChoice::Unset {
        return Err(source.error(
            table.span(),
            format!(
                "service `{name}` needs a way to tell it is ready: ready_url, ready_log, \
                 ready_tcp, or a port (then ready when it accepts connections)"
            ),
        ));
    }
    Ok(ServiceSpec {
        name: name.to_owned(),
        command: raw.command.get_ref().clone(),
        cwd: raw
            .cwd
            .as_ref()
            .map_or_else(|| root.to_path_buf(), |cwd| root.join(cwd.get_ref())),
        env,
        preset,
        port,
        inherit_env: raw
            .inherit_env
            .iter()
            .map(|v| v.get_ref().clone())
            .collect(),
        ready,
        ready_timeout: duration(
            source,
            &raw.ready_timeout,
            "ready_timeout",
            DEFAULT_READY_TIMEOUT,
        )?,
        stop_timeout: duration(
            source,
            &raw.stop_timeout,
            "stop_timeout",
            DEFAULT_STOP_TIMEOUT,
        )?,
    })
}

fn readiness(
    source: &Source,
    raw: &RawService,
    template: &impl Fn(&Spanned<String>, &[&str]) -> Result<EnvTemplate, ProjectError>,
    port: PortChoice,
) -> Result<Readiness, ProjectError> {
    let needs_port = |span: Range<usize>, what: &str| {
        if port == PortChoice::Unset {
            Err(source.error(span, format!("{what} needs the service's port: set `port`")))
        } else {
            Ok(())
        }
    };
    let url = match &raw.ready_url {
        None => None,
        Some(text) => {
            let parsed = template(text, &["PORT"])?;
            let is_path = text.get_ref().starts_with('/');
            if is_path || parsed.names().any(|name| name == "PORT") {
                needs_port(text.span(), "ready_url")?;
            }
            if !is_path
                && !text.get_ref().starts_with("http://")
                && !text.get_ref().starts_with("https://")
            {
                return Err(source.error(
                    text.span(),
                    "ready_url: expected a path (/health) or an http:// URL",
                ));
            }
            let statuses = match &raw.ready_status {
                None => StatusSet::default(),
                Some(list) => statuses(source, list)?,
            };
            Some(ReadyUrl {
                url: parsed,
                statuses,
            })
        }
    };
    if let (None, Some(list)) = (&raw.ready_url, &raw.ready_status) {
        return Err(source.error(list.span(), "ready_status needs a ready_url"));
    }
    let log = match &raw.ready_log {
        None => None,
        Some(pattern) => Some(regex::Regex::new(pattern.get_ref()).map_err(|e| {
            source.error(
                pattern.span(),
                format!("ready_log is not a valid regex: {e}"),
            )
        })?),
    };
    let tcp = match &raw.ready_tcp {
        None => None,
        Some(value) => match value.get_ref() {
            toml::Value::Boolean(false) => None,
            toml::Value::Boolean(true) => {
                needs_port(value.span(), "ready_tcp = true")?;
                Some(ReadyTcp::ServicePort)
            }
            toml::Value::Integer(n) if (1..=65535).contains(n) => Some(ReadyTcp::Port(*n as u16)),
            _ => {
                return Err(source.error(
                    value.span(),
                    "ready_tcp: expected true (the service's port) or a port number",
                ));
            }
        },
    };
    Ok(Readiness { url, log, tcp })
}

/// `[200, "3xx", 401]`: statuses and classes.
fn statuses(
    source: &Source,
    list: &Spanned<Vec<Spanned<toml::Value>>>,
) -> Result<StatusSet, ProjectError> {
    let mut ranges = Vec::new();
    for item in list.get_ref() {
        let range = match item.get_ref() {
            toml::Value::Integer(n) if (100..=599).contains(n) => (*n as u16, *n as u16),
            toml::Value::String(class)
                if class.len() == 3
                    && class.ends_with("xx")
                    && matches!(class.as_bytes()[0], b'1'..=b'5') =>
            {
                let hundreds = u16::from(class.as_bytes()[0] - b'0') * 100;
                (hundreds, hundreds + 99)
            }
            _ => {
                return Err(source.error(
                    item.span(),
                    "ready_status: expected a status (200) or a class (\"2xx\")",
                ));
            }
        };
        ranges.push(range);
    }
    if ranges.is_empty() {
        return Err(source.error(
            list.span(),
            "ready_status is empty: nothing could count as ready",
        ));
    }
    Ok(StatusSet::new(ranges))
}

/// `"60s"`, `"500ms"`, `"2m"`, or a number of seconds.
pub(super) fn duration(
    source: &Source,
    value: &Option<Spanned<toml::Value>>,
    key: &str,
    default: Duration,
) -> Result<Duration, ProjectError> {
    let Some(value) = value else {
        return Ok(default);
    };
    let parsed = match value.get_ref() {
        toml::Value::String(text) => service::parse_duration(text),
        toml::Value::Integer(n) if *n >= 0 => Ok(Duration::from_secs(*n as u64)),
        toml::Value::Float(f) if *f >= 0.0 => {
            Duration::try_from_secs_f64(*f).map_err(|e| e.to_string())
        }
        _ => Err("expected a duration such as \"60s\" or \"500ms\"".to_owned()),
    };
    parsed.map_err(|message| source.error(value.span(), format!("{key}: {message}")))
}
