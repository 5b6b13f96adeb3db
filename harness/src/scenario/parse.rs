//! TOML text → [`Scenario`], with the file, line and column of anything wrong.
//!
//! Parsing goes through serde into raw structs that keep spans, then a second pass checks what
//! serde cannot: one target per step, known stages, declared users, captures defined before use.

mod request;

use std::collections::HashSet;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

use self::request::{RawExpect, RawHeaders};
use super::fault::{self, RawFault};
use super::keys::{self, RawKeyAction};
use super::{Placeholder, Requirement, Scenario, Step, Template, Timeouts, User, UserCreation};
use crate::faults::{Dependency, Fault};

/// A 1-based line and column in a scenario file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    /// The line and column of byte `offset` in `text` (columns count characters, not bytes);
    /// every TOML file the harness reads reports its errors with it.
    pub fn at(text: &str, offset: usize) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
        let column = before[line_start..].chars().count() + 1;
        Position { line, column }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A scenario that cannot run, and where it went wrong.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ParseError {
    pub path: PathBuf,
    pub position: Option<Position>,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(Position { line, column }) = self.position {
            write!(f, ":{line}:{column}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl ParseError {
    pub(super) fn io(path: &Path, error: &std::io::Error) -> ParseError {
        ParseError {
            path: path.to_owned(),
            position: None,
            message: format!("cannot read the scenario file: {error}"),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    story: String,
    #[serde(default)]
    users: Vec<Spanned<String>>,
    #[serde(default)]
    admin_users: Vec<Spanned<String>>,
    #[serde(default, rename = "step")]
    steps: Vec<Spanned<RawStep>>,
    ambiguous_writes: Option<String>,
    requires: Option<Spanned<String>>,
    keys: Option<Spanned<String>>,
    #[serde(default)]
    timeouts: RawTimeouts,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTimeouts {
    auth: Option<Spanned<String>>,
    db: Option<Spanned<String>>,
    gateway: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    name: String,
    stage: Option<Spanned<String>>,
    target: Option<Spanned<String>>,
    url: Option<Spanned<String>>,
    method: Option<Spanned<String>>,
    #[serde(default)]
    path: Option<Spanned<String>>,
    headers: Option<Spanned<RawHeaders>>,
    body: Option<Spanned<String>>,
    json: Option<Spanned<toml::Value>>,
    #[serde(default)]
    capture: IndexMap<String, String>,
    #[serde(default)]
    expect: Option<Spanned<RawExpect>>,
    #[serde(default)]
    faults: Vec<RawFault>,
    #[serde(default)]
    during: Vec<RawFault>,
    #[serde(default)]
    clear: Vec<Spanned<String>>,
    recover: Option<Spanned<String>>,
    keys: Option<RawKeyAction>,
}

impl RawStep {
    /// Whether anything of a request is written: then the whole request must be.
    fn has_request(&self) -> bool {
        self.stage.is_some()
            || self.target.is_some()
            || self.url.is_some()
            || self.method.is_some()
            || self.path.is_some()
            || self.headers.is_some()
            || self.body.is_some()
            || self.json.is_some()
            || !self.capture.is_empty()
            || self.expect.is_some()
    }
}

/// Turns byte offsets into positions and builds errors for one file.
pub(super) struct Source<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Source<'_> {
    fn position(&self, offset: usize) -> Position {
        Position::at(self.text, offset)
    }

    pub(super) fn error(&self, span: Range<usize>, message: impl Into<String>) -> ParseError {
        ParseError {
            path: self.path.to_owned(),
            position: Some(self.position(span.start)),
            message: message.into(),
        }
    }

    /// Parses a spanned string as a template; errors point inside the string.
    fn template(&self, text: &Spanned<String>) -> Result<Template, ParseError> {
        Template::parse(text.get_ref()).map_err(|error| {
            // +1 skips the opening quote; exact for strings without escapes.
            let offset = text.span().start + 1 + error.offset;
            self.error(offset..offset, error.message)
        })
    }

    /// Parses a template found somewhere inside the value at `span`; errors point at the value.
    fn template_within(&self, text: &str, span: Range<usize>) -> Result<Template, ParseError> {
        Template::parse(text).map_err(|error| self.error(span, error.message))
    }
}

pub(super) fn parse(path: &Path, text: &str, stages: &[&str]) -> Result<Scenario, ParseError> {
    let source = Source { path, text };
    let raw: RawScenario = toml::from_str(text).map_err(|error| ParseError {
        path: path.to_owned(),
        position: error.span().map(|span| source.position(span.start)),
        message: error.message().trim_end().to_owned(),
    })?;

    let users = users(&source, &raw)?;
    let requires = match &raw.requires {
        None => None,
        Some(name) if name.get_ref() == "containers" => Some(Requirement::Containers),
        Some(name) => {
            return Err(source.error(
                name.span(),
                format!(
                    "unknown requirement `{}`: expected containers",
                    name.get_ref()
                ),
            ));
        }
    };
    let mut known = Known {
        users: users.iter().map(|user| user.name.clone()).collect(),
        captures: HashSet::new(),
    };
    let mut steps = Vec::with_capacity(raw.steps.len());
    for raw_step in &raw.steps {
        let step = step(&source, raw_step, stages, requires)?;
        known.check(&source, raw_step.span(), &step)?;
        if let Some(request) = &step.request {
            known
                .captures
                .extend(request.captures.iter().map(|(name, _)| name.clone()));
        }
        steps.push(step);
    }
    if steps.is_empty() {
        return Err(ParseError {
            path: path.to_owned(),
            position: None,
            message: "a scenario needs at least one `[[step]]`".into(),
        });
    }
    Ok(Scenario {
        name: path
            .file_stem()
            .map_or_else(String::new, |stem| stem.to_string_lossy().into_owned()),
        path: path.to_owned(),
        story: raw.story.trim().to_owned(),
        users,
        steps,
        timeouts: timeouts(&source, &raw.timeouts)?,
        ambiguous_writes: raw.ambiguous_writes.map(|why| why.trim().to_owned()),
        requires,
        keys: keys::profile(&source, &raw.keys)?,
    })
}

fn timeouts(source: &Source, raw: &RawTimeouts) -> Result<Timeouts, ParseError> {
    let budget = |name: &str, text: &Option<Spanned<String>>| match text {
        None => Ok(None),
        Some(text) => match service::parse_duration(text.get_ref()) {
            Ok(budget) if !budget.is_zero() => Ok(Some(budget)),
            Ok(_) => Err(source.error(text.span(), format!("timeouts.{name}: must be above zero"))),
            Err(message) => Err(source.error(text.span(), format!("timeouts.{name}: {message}"))),
        },
    };
    Ok(Timeouts {
        auth: budget("auth", &raw.auth)?,
        db: budget("db", &raw.db)?,
        gateway: budget("gateway", &raw.gateway)?,
    })
}

fn users(source: &Source, raw: &RawScenario) -> Result<Vec<User>, ParseError> {
    let signed_up = raw.users.iter().map(|name| (name, UserCreation::SignUp));
    let by_admin = raw
        .admin_users
        .iter()
        .map(|name| (name, UserCreation::Admin));
    let mut users: Vec<User> = Vec::new();
    for (name, created_by) in signed_up.chain(by_admin) {
        let valid = !name.get_ref().is_empty()
            && name
                .get_ref()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return Err(source.error(
                name.span(),
                format!(
                    "invalid user name `{}`: use letters, digits, `-` or `_`",
                    name.get_ref()
                ),
            ));
        }
        if users.iter().any(|user| &user.name == name.get_ref()) {
            return Err(source.error(
                name.span(),
                format!("user `{}` is declared twice", name.get_ref()),
            ));
        }
        users.push(User {
            name: name.get_ref().clone(),
            created_by,
        });
    }
    Ok(users)
}

fn step(
    source: &Source,
    spanned: &Spanned<RawStep>,
    stages: &[&str],
    requires: Option<Requirement>,
) -> Result<Step, ParseError> {
    let span = spanned.span();
    let raw = spanned.get_ref();
    let faults = fault_list(source, &raw.faults, requires)?;
    let during = fault_list(source, &raw.during, requires)?;
    let clear = clear_list(source, &raw.clear)?;
    let key_action = match &raw.keys {
        Some(action) => Some(keys::action(source, action)?),
        None => None,
    };
    let recover = match &raw.recover {
        None => None,
        Some(text) => Some(
            service::parse_duration(text.get_ref())
                .map_err(|message| source.error(text.span(), format!("recover: {message}")))?,
        ),
    };
    if !raw.has_request() {
        let name = &raw.name;
        let (at, problem) = if let Some(first) = raw.during.first() {
            let problem = format!(
                "step `{name}` has no request, and `during` faults last for one: use `faults`"
            );
            (first.span(), problem)
        } else if let Some(recover) = &raw.recover {
            let problem =
                format!("step `{name}` has no request, and `recover` re-sends the step's request");
            (recover.span(), problem)
        } else if faults.is_empty() && clear.is_empty() && key_action.is_none() {
            let problem = format!(
                "step `{name}` needs a request (`stage`, `target` or `url`), fault actions \
                 (`faults`, `clear`) or a key action (`keys`)"
            );
            (span.clone(), problem)
        } else {
            return Ok(Step {
                name: raw.name.clone(),
                clear,
                keys: key_action,
                faults,
                during,
                recover,
                request: None,
            });
        };
        return Err(source.error(at, problem));
    }
    Ok(Step {
        name: raw.name.clone(),
        clear,
        keys: key_action,
        faults,
        during,
        recover,
        request: Some(request::request(source, spanned, stages)?),
    })
}

fn fault_list(
    source: &Source,
    raw: &[RawFault],
    requires: Option<Requirement>,
) -> Result<Vec<Fault>, ParseError> {
    raw.iter()
        .map(|table| {
            let fault = fault::fault(source, table)?;
            if matches!(fault, Fault::Network { .. }) && requires != Some(Requirement::Containers)
            {
                return Err(source.error(
                    table.span(),
                    "network faults need containers: add `requires = \"containers\"` to the scenario",
                ));
            }
            Ok(fault)
        })
        .collect()
}

fn clear_list(source: &Source, raw: &[Spanned<String>]) -> Result<Vec<Dependency>, ParseError> {
    let mut cleared = Vec::new();
    for name in raw {
        let named = match name.get_ref().as_str() {
            "all" => Dependency::ALL.to_vec(),
            other => match Dependency::from_name(other) {
                Some(dependency) => vec![dependency],
                None => {
                    return Err(source.error(
                        name.span(),
                        format!(
                            "unknown dependency `{other}` to clear: expected {}, or all",
                            Dependency::names()
                        ),
                    ));
                }
            },
        };
        for dependency in named {
            if !cleared.contains(&dependency) {
                cleared.push(dependency);
            }
        }
    }
    Ok(cleared)
}

/// What a step may refer to: declared users, and captures of earlier steps.
struct Known {
    users: HashSet<String>,
    captures: HashSet<String>,
}

impl Known {
    fn check(&self, source: &Source, span: Range<usize>, step: &Step) -> Result<(), ParseError> {
        for placeholder in &step.placeholders() {
            let problem = match placeholder {
                Placeholder::UserId(user)
                | Placeholder::UserEmail(user)
                | Placeholder::UserPassword(user)
                | Placeholder::Token(user, _)
                    if !self.users.contains(user) =>
                {
                    format!(
                        "step `{}` uses user `{user}`, who is not declared in `users` or `admin_users`",
                        step.name
                    )
                }
                Placeholder::Capture(name) if !self.captures.contains(name) => format!(
                    "step `{}` uses `capture.{name}`, which no earlier step captures",
                    step.name
                ),
                _ => continue,
            };
            return Err(source.error(span, problem));
        }
        Ok(())
    }
}
