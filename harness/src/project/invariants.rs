//! `[invariants]` of harness.toml: which stage a fault scenario's invariants judge, where its
//! acknowledged writes land, and how long it may take to answer under a fault.

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::ProjectError;
use super::manifest::{Source, duration};
use crate::{
    app::ServiceSpec,
    run::{Budget, InvariantSpec, WriteTable},
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawInvariants {
    stage: Option<Spanned<String>>,
    writes: Option<Spanned<RawWrites>>,
    timeout: Option<Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWrites {
    table: Spanned<String>,
    id: Spanned<String>,
    id_column: Option<Spanned<String>>,
    owner_column: Option<Spanned<String>>,
}

/// `[invariants]`: which stage a fault scenario's invariants judge (default: the project's only
/// service, else the reference stage), the table its acknowledged writes land in (default: none,
/// so that invariant is not checked), and how long it may take to answer under a fault.
pub(super) fn parse(
    source: &Source,
    raw: Option<&Spanned<RawInvariants>>,
    services: &[ServiceSpec],
) -> Result<InvariantSpec, ProjectError> {
    let default_stage = match services {
        [only] => only.name.clone(),
        _ => crate::run::invariants::REFERENCE.to_owned(),
    };
    let Some(raw) = raw.map(Spanned::get_ref) else {
        return Ok(InvariantSpec {
            budget: budget(&default_stage, None),
            stage: default_stage,
            writes: None,
        });
    };
    let stage = match &raw.stage {
        None => default_stage,
        Some(stage) => {
            let name = stage.get_ref();
            let built_in = service::Stage::ALL.iter().any(|s| s.name() == name);
            if !built_in && !services.iter().any(|s| &s.name == name) {
                let mut known: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
                known.extend(service::Stage::ALL.iter().map(|s| s.name()));
                return Err(source.error(
                    stage.span(),
                    format!(
                        "invariants: stage `{name}` is neither a service of this file nor a \
                         built-in stage: expected one of {}",
                        known.join(", ")
                    ),
                ));
            }
            name.clone()
        }
    };
    let writes = match &raw.writes {
        None => None,
        Some(writes) => Some(write_table(source, writes.get_ref())?),
    };
    let timeout = match &raw.timeout {
        None => None,
        Some(_) => Some(duration(
            source,
            &raw.timeout,
            "invariants.timeout",
            Duration::ZERO,
        )?),
    };
    Ok(InvariantSpec {
        budget: budget(&stage, timeout),
        stage,
        writes,
    })
}

/// A declared timeout; else the stack's for a built-in stage, and unknown for a service.
fn budget(stage: &str, timeout: Option<Duration>) -> Budget {
    match timeout {
        Some(each) => Budget::Each(each),
        None if service::Stage::ALL.iter().any(|s| s.name() == stage) => Budget::Stack,
        None => Budget::Unknown,
    }
}

fn write_table(source: &Source, raw: &RawWrites) -> Result<WriteTable, ProjectError> {
    let (schema, table) = WriteTable::parse_name(raw.table.get_ref()).map_err(|message| {
        source.error(raw.table.span(), format!("invariants.writes: {message}"))
    })?;
    let name = |value: &Option<Spanned<String>>, key: &str, default: &str| match value {
        None => Ok(default.to_owned()),
        Some(text) if text.get_ref().is_empty() => Err(source.error(
            text.span(),
            format!("invariants.writes.{key} is empty: name a column"),
        )),
        Some(text) => Ok(text.get_ref().clone()),
    };
    if raw.id.get_ref().is_empty() {
        return Err(source.error(
            raw.id.span(),
            "invariants.writes.id is empty: name the JSON field of a success that holds the new \
             row's id (e.g. \"sessionId\")",
        ));
    }
    Ok(WriteTable {
        schema,
        table,
        id_field: raw.id.get_ref().clone(),
        id_column: name(&raw.id_column, "id_column", "id")?,
        owner_column: name(&raw.owner_column, "owner_column", "user_id")?,
    })
}
