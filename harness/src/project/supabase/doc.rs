//! `supabase/config.toml` read the way the Supabase CLI reads it: by dotted key, with the CLI's
//! precedence, and every key it does not model left over for the warnings.
//!
//! The CLI decodes with viper, so a key's value comes from (first that is set) a
//! `SUPABASE_<KEY>` environment variable (`SUPABASE_AUTH_JWT_EXPIRY` for `auth.jwt_expiry`), the
//! file, then its template's default; a string that is exactly `env(NAME)` becomes NAME's value
//! when that is set and not empty (and stays as written otherwise); and decoding is weakly typed
//! (`"3600"` is a number, `"a,b"` a list). The file is walked as a spanned tree rather than
//! deserialized into structs, because config.toml has hundreds of keys the harness has no use
//! for: they must be allowed, each reported once with its position, not refused.

use std::{cell::RefCell, collections::HashSet, path::Path};

use toml::{
    Spanned,
    de::{DeTable, DeValue},
};

use super::env::Env;
use crate::{project::ProjectError, scenario::Position};

/// A parsed config.toml and the keys read from it so far.
pub(super) struct ConfigDoc<'a> {
    path: &'a Path,
    text: &'a str,
    root: DeTable<'a>,
    env: &'a Env,
    read: RefCell<HashSet<String>>,
}

/// A key the loader never read, with where it is.
pub(super) struct Leftover<'d, 'a> {
    pub key: String,
    pub position: Position,
    pub value: &'d DeValue<'a>,
}

/// A scalar after `SUPABASE_*` overrides and `env()` substitution, and where it came from.
enum Raw<'d, 'a> {
    File(&'d Spanned<DeValue<'a>>),
    Override { var: String, value: String },
}

impl<'a> ConfigDoc<'a> {
    pub(super) fn parse(path: &'a Path, text: &'a str, env: &'a Env) -> Result<Self, ProjectError> {
        let root = DeTable::parse(text).map_err(|error| {
            let position = error.span().map(|span| Position::at(text, span.start));
            ProjectError::invalid(path, position, error.message().trim_end())
        })?;
        Ok(Self {
            path,
            text,
            root: root.into_inner(),
            env,
            read: RefCell::default(),
        })
    }

    pub(super) fn path(&self) -> &Path {
        self.path
    }

    /// Where `key`'s value is written, if it is.
    pub(super) fn position(&self, key: &str) -> Option<Position> {
        self.lookup(key)
            .map(|value| Position::at(self.text, value.span().start))
    }

    /// Whether `key` is written in the file.
    pub(super) fn has(&self, key: &str) -> bool {
        self.lookup(key).is_some()
    }

    pub(super) fn string(&self, key: &str, default: &str) -> Result<String, ProjectError> {
        Ok(self
            .optional_string(key)?
            .unwrap_or_else(|| default.to_owned()))
    }

    pub(super) fn optional_string(&self, key: &str) -> Result<Option<String>, ProjectError> {
        match self.raw(key) {
            None => Ok(None),
            Some(Raw::Override { value, .. }) => Ok(Some(value)),
            Some(Raw::File(value)) => match value.get_ref() {
                DeValue::String(text) => Ok(Some(self.substitute(text))),
                other => Err(self.wrong_type(key, value, "a string", other)),
            },
        }
    }

    pub(super) fn bool(&self, key: &str, default: bool) -> Result<bool, ProjectError> {
        let parse = |text: &str| match text {
            "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
            "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
            _ => None,
        };
        self.scalar(
            key,
            default,
            "true or false",
            |value| match value {
                DeValue::Boolean(flag) => Some(*flag),
                _ => None,
            },
            parse,
        )
    }

    pub(super) fn uint(&self, key: &str, default: u64) -> Result<u64, ProjectError> {
        self.scalar(
            key,
            default,
            "a whole number",
            |value| match value {
                DeValue::Integer(int) => u64::from_str_radix(int.as_str(), int.radix()).ok(),
                _ => None,
            },
            |text| text.trim().parse().ok(),
        )
    }

    /// An array of strings, or one comma-separated string (viper's StringToSlice).
    pub(super) fn strings(&self, key: &str, default: &[&str]) -> Result<Vec<String>, ProjectError> {
        let split = |text: &str| -> Vec<String> {
            if text.is_empty() {
                Vec::new()
            } else {
                text.split(',').map(str::to_owned).collect()
            }
        };
        match self.raw(key) {
            None => Ok(default.iter().map(|s| (*s).to_owned()).collect()),
            Some(Raw::Override { value, .. }) => Ok(split(&value)),
            Some(Raw::File(value)) => match value.get_ref() {
                DeValue::String(text) => Ok(split(&self.substitute(text))),
                DeValue::Array(items) => items
                    .iter()
                    .map(|item| match item.get_ref() {
                        DeValue::String(text) => Ok(self.substitute(text)),
                        other => Err(self.wrong_type(key, item, "a string", other)),
                    })
                    .collect(),
                other => Err(self.wrong_type(key, value, "an array of strings", other)),
            },
        }
    }

    /// Every key not read, depth first in file order (tables are walked, arrays are values).
    pub(super) fn leftovers(&self) -> Vec<Leftover<'_, 'a>> {
        let read = self.read.borrow();
        let mut found = Vec::new();
        let mut stack: Vec<(String, &DeTable<'a>)> = vec![(String::new(), &self.root)];
        while let Some((prefix, table)) = stack.pop() {
            let mut nested = Vec::new();
            for (key, value) in table.iter() {
                let dotted = if prefix.is_empty() {
                    key.get_ref().to_string()
                } else {
                    format!("{prefix}.{}", key.get_ref())
                };
                match value.get_ref() {
                    DeValue::Table(inner) => nested.push((dotted, inner)),
                    other if !read.contains(&dotted) => found.push(Leftover {
                        key: dotted,
                        position: Position::at(self.text, key.span().start),
                        value: other,
                    }),
                    _ => {}
                }
            }
            stack.extend(nested.into_iter().rev());
        }
        found.sort_by_key(|leftover| (leftover.position.line, leftover.position.column));
        found
    }

    /// The file's value of `key` (tables included), without marking it read.
    fn lookup(&self, key: &str) -> Option<&Spanned<DeValue<'a>>> {
        let mut parts = key.split('.');
        let first = parts.next()?;
        let mut value = entry(&self.root, first)?;
        for part in parts {
            match value.get_ref() {
                DeValue::Table(table) => value = entry(table, part)?,
                _ => return None,
            }
        }
        Some(value)
    }

    /// `SUPABASE_<KEY>` if set, else the file's value; marks the key read.
    fn raw(&self, key: &str) -> Option<Raw<'_, 'a>> {
        self.read.borrow_mut().insert(key.to_owned());
        let var = format!("SUPABASE_{}", key.replace('.', "_").to_uppercase());
        if let Some(value) = self.env.get(&var) {
            return Some(Raw::Override {
                var,
                value: value.to_owned(),
            });
        }
        self.lookup(key).map(Raw::File)
    }

    fn scalar<T>(
        &self,
        key: &str,
        default: T,
        expected: &str,
        typed: impl Fn(&DeValue) -> Option<T>,
        from_text: impl Fn(&str) -> Option<T>,
    ) -> Result<T, ProjectError> {
        match self.raw(key) {
            None => Ok(default),
            Some(Raw::Override { var, value }) => from_text(&value).ok_or_else(|| {
                ProjectError::invalid(
                    self.path,
                    None,
                    format!(
                        "{key}: expected {expected}, but {var} (which overrides it) is `{value}`"
                    ),
                )
            }),
            Some(Raw::File(spanned)) => {
                if let Some(value) = typed(spanned.get_ref()) {
                    return Ok(value);
                }
                if let DeValue::String(text) = spanned.get_ref() {
                    let text = self.substitute(text);
                    return from_text(&text).ok_or_else(|| {
                        self.error_at(
                            spanned,
                            format!("{key}: expected {expected}, found `{text}`"),
                        )
                    });
                }
                Err(self.wrong_type(key, spanned, expected, spanned.get_ref()))
            }
        }
    }

    /// `env(NAME)` → NAME's value when it is set and not empty; any other text as written.
    fn substitute(&self, text: &str) -> String {
        text.strip_prefix("env(")
            .and_then(|rest| rest.strip_suffix(')'))
            .and_then(|name| self.env.get(name))
            .map_or_else(|| text.to_owned(), str::to_owned)
    }

    fn wrong_type(
        &self,
        key: &str,
        at: &Spanned<DeValue>,
        expected: &str,
        found: &DeValue,
    ) -> ProjectError {
        self.error_at(
            at,
            format!("{key}: expected {expected}, found {}", found.type_str()),
        )
    }

    fn error_at(&self, at: &Spanned<DeValue>, message: String) -> ProjectError {
        ProjectError::invalid(
            self.path,
            Some(Position::at(self.text, at.span().start)),
            message,
        )
    }
}

fn entry<'t, 'a>(table: &'t DeTable<'a>, key: &str) -> Option<&'t Spanned<DeValue<'a>>> {
    table
        .iter()
        .find(|(name, _)| name.get_ref() == key)
        .map(|(_, value)| value)
}
