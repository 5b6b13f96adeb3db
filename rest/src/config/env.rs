//! Reading `PGRST_*` values as PostgREST does: empty means unset, booleans and numbers
//! parsed with errors naming the variable, PostgREST's spellings of hosts and enums.

use std::collections::BTreeMap;

use super::{ConfigError, LogLevel, OpenApiMode, TxEnd};

/// PostgREST's host spellings: `!4` (the default) is every IPv4 interface, `!6` every IPv6
/// one, `*` any.
pub(super) fn host(value: Option<String>) -> String {
    match value.as_deref() {
        None | Some("!4") | Some("*4") | Some("*") => "0.0.0.0".into(),
        Some("!6") | Some("*6") => "::".into(),
        Some(h) => h.to_owned(),
    }
}

pub(super) fn tx_end(env: &Env) -> Result<TxEnd, ConfigError> {
    let (rollback, allow_override) = match env.get("PGRST_DB_TX_END").as_deref() {
        None | Some("commit") => (false, false),
        Some("commit-allow-override") => (false, true),
        Some("rollback") => (true, false),
        Some("rollback-allow-override") => (true, true),
        Some(_) => {
            return Err(env.invalid(
                "PGRST_DB_TX_END",
                "expected commit, commit-allow-override, rollback or rollback-allow-override"
                    .into(),
            ));
        }
    };
    Ok(TxEnd {
        rollback,
        allow_override,
    })
}

pub(super) fn log_level(env: &Env) -> Result<LogLevel, ConfigError> {
    Ok(match env.get("PGRST_LOG_LEVEL").as_deref() {
        None | Some("error") => LogLevel::Error,
        Some("crit") => LogLevel::Crit,
        Some("warn") => LogLevel::Warn,
        Some("info") => LogLevel::Info,
        Some("debug") => LogLevel::Debug,
        Some(_) => {
            return Err(env.invalid(
                "PGRST_LOG_LEVEL",
                "expected crit, error, warn, info or debug".into(),
            ));
        }
    })
}

pub(super) fn openapi_mode(env: &Env) -> Result<OpenApiMode, ConfigError> {
    Ok(match env.get("PGRST_OPENAPI_MODE").as_deref() {
        None | Some("follow-privileges") => OpenApiMode::FollowPrivileges,
        Some("ignore-privileges") => OpenApiMode::IgnorePrivileges,
        Some("disabled") => OpenApiMode::Disabled,
        Some(_) => {
            return Err(env.invalid(
                "PGRST_OPENAPI_MODE",
                "expected follow-privileges, ignore-privileges or disabled".into(),
            ));
        }
    })
}

/// The pairs, with PostgREST's reading rules.
pub(super) struct Env<'a>(pub(super) &'a BTreeMap<String, String>);

impl Env<'_> {
    /// A value, None when absent or empty (PostgREST treats both as unset).
    pub(super) fn get(&self, var: &str) -> Option<String> {
        self.0.get(var).filter(|v| !v.is_empty()).cloned()
    }

    pub(super) fn list(&self, var: &str) -> Option<Vec<String>> {
        self.get(var).map(|v| {
            v.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
    }

    pub(super) fn invalid(&self, var: &str, reason: String) -> ConfigError {
        ConfigError::Invalid {
            var: var.into(),
            // Never echo key material back.
            value: if var.contains("SECRET") {
                "<redacted>".into()
            } else {
                self.0.get(var).cloned().unwrap_or_default()
            },
            reason,
        }
    }

    pub(super) fn flag(&self, var: &str, default: bool) -> Result<bool, ConfigError> {
        match self.get(var).map(|v| v.to_ascii_lowercase()).as_deref() {
            None => Ok(default),
            Some("true") | Some("yes") | Some("on") | Some("1") => Ok(true),
            Some("false") | Some("no") | Some("off") | Some("0") => Ok(false),
            Some(_) => Err(self.invalid(var, "expected true or false".into())),
        }
    }

    pub(super) fn parse<T: std::str::FromStr>(
        &self,
        var: &str,
        default: T,
    ) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        match self.get(var) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse()
                .map_err(|e: T::Err| self.invalid(var, e.to_string())),
        }
    }
}
