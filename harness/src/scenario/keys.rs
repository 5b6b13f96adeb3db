//! The signing-key vocabulary of scenario files: the profile a scenario's story needs
//! (`keys = "cli"` at the top), and a step's rotation (`keys = { add_standby = "ES256" }`,
//! `{ promote = "standby" }`, `{ revoke = "previous" }`, one per step), each with the line and
//! column of anything wrong.

use std::ops::Range;

use indexmap::IndexMap;
use toml::Spanned;

use super::parse::{ParseError, Source};
use crate::signing::{KeyAction, KeyAlgorithm, KeyProfile, KeySelector};

/// The key profile a scenario's story is told with; it gets a stack of that profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScenarioKeys {
    /// `supabase start` today: ES256 user tokens.
    Cli,
    /// HS256 only, as before the CLI's switch.
    Legacy,
}

impl ScenarioKeys {
    pub fn name(self) -> &'static str {
        match self {
            ScenarioKeys::Cli => "cli",
            ScenarioKeys::Legacy => "legacy",
        }
    }

    /// The stack profile.
    pub fn profile(self) -> KeyProfile {
        match self {
            ScenarioKeys::Cli => KeyProfile::Cli,
            ScenarioKeys::Legacy => KeyProfile::Legacy,
        }
    }
}

/// `keys = "cli"` or `"legacy"`.
pub(super) fn profile(
    source: &Source,
    raw: &Option<Spanned<String>>,
) -> Result<Option<ScenarioKeys>, ParseError> {
    let Some(name) = raw else { return Ok(None) };
    match name.get_ref().as_str() {
        "cli" => Ok(Some(ScenarioKeys::Cli)),
        "legacy" => Ok(Some(ScenarioKeys::Legacy)),
        other => Err(source.error(
            name.span(),
            format!("unknown key profile `{other}`: expected cli or legacy"),
        )),
    }
}

/// A step's `keys` table as written, every key and value with its span.
pub(super) type RawKeyAction = Spanned<IndexMap<Spanned<String>, Spanned<toml::Value>>>;

/// A step's `keys`: exactly one action, its value a string.
pub(super) fn action(source: &Source, raw: &RawKeyAction) -> Result<KeyAction, ParseError> {
    let mut entries = raw.get_ref().iter();
    let (key, value) = match (entries.next(), entries.next()) {
        (Some(only), None) => only,
        (None, _) => return Err(source.error(raw.span(), EXPECTED)),
        (Some(_), Some((second, _))) => {
            return Err(source.error(
                second.span(),
                "one key action per step: put the next one in a step of its own",
            ));
        }
    };
    let text = value
        .get_ref()
        .as_str()
        .ok_or_else(|| source.error(value.span(), format!("`{}` is a string", key.get_ref())))?;
    match key.get_ref().as_str() {
        "add_standby" => match text {
            "ES256" => Ok(KeyAction::AddStandby(KeyAlgorithm::Es256)),
            "RS256" => Ok(KeyAction::AddStandby(KeyAlgorithm::Rs256)),
            other => Err(source.error(
                value.span(),
                format!(
                    "unknown algorithm `{other}`: expected ES256 or RS256 (what `supabase gen \
                     signing-key` makes)"
                ),
            )),
        },
        "promote" => Ok(KeyAction::Promote(selector(source, text, value.span())?)),
        "revoke" => Ok(KeyAction::Revoke(selector(source, text, value.span())?)),
        other => Err(source.error(
            key.span(),
            format!(
                "unknown key action `{other}`: expected {}",
                KeyAction::NAMES.join(", ")
            ),
        )),
    }
}

const EXPECTED: &str = "`keys` is one action: { add_standby = \"ES256\" }, { promote = \
    \"standby\" } or { revoke = \"previous\" }";

/// `standby`, `previous` or a kid (not empty).
fn selector(source: &Source, text: &str, span: Range<usize>) -> Result<KeySelector, ParseError> {
    if text.trim().is_empty() {
        return Err(source.error(span, "name the key: standby, previous, or its kid"));
    }
    Ok(KeySelector::parse(text))
}
