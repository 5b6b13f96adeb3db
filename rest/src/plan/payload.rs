//! The request body of a write as rows, and which columns they name: `columns=` or the
//! first row's keys (PGRST102 when the rows disagree, PGRST204 for a column the relation
//! lacks), split by key set where absent keys must take their defaults.

use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::query::ast::QueryParams;
use crate::schema::{Column, Table};

/// The request body's rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Payload {
    pub rows: Vec<Map<String, Value>>,
}

impl Payload {
    /// Parses a JSON object or array of objects (PGRST102 otherwise).
    pub fn parse(body: &[u8]) -> Result<Payload, ApiError> {
        let invalid = || ApiError::InvalidBody("Empty or invalid json".into());
        let value: Value = serde_json::from_slice(body).map_err(|_| invalid())?;
        let rows = match value {
            Value::Object(o) => vec![o],
            Value::Array(items) => items
                .into_iter()
                .map(|v| match v {
                    Value::Object(o) => Ok(o),
                    _ => Err(invalid()),
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(invalid()),
        };
        Ok(Payload { rows })
    }
}

/// The payload's columns: `columns=` if given, else the first row's keys, which every row
/// must then share (PGRST102); each must be a column (PGRST204).
pub fn payload_columns<'t>(
    table: &'t Table,
    query: &QueryParams,
    payload: &Payload,
) -> Result<Vec<&'t Column>, ApiError> {
    let names: Vec<String> = match &query.columns {
        Some(cols) => cols.clone(),
        None => {
            let first: Vec<String> = payload
                .rows
                .first()
                .map(|r| r.keys().cloned().collect())
                .unwrap_or_default();
            for row in &payload.rows {
                if row.len() != first.len() || !first.iter().all(|k| row.contains_key(k)) {
                    return Err(ApiError::InvalidBody("All object keys must match".into()));
                }
            }
            first
        }
    };
    names
        .iter()
        .map(|n| {
            table.column(n).ok_or_else(|| ApiError::ColumnNotFound {
                relation: table.name.clone(),
                column: n.clone(),
            })
        })
        .collect()
}

/// Rows sharing one key set: the columns they give, and the rows.
pub type RowGroup = (Vec<String>, Vec<Map<String, Value>>);

/// The payload's rows split by key set when absent keys must take defaults; otherwise one
/// group with every row.
pub fn row_groups(payload: &Payload, cols: &[&Column], by_key_set: bool) -> Vec<RowGroup> {
    let all: Vec<String> = cols.iter().map(|c| c.name.clone()).collect();
    if !by_key_set {
        return vec![(all, payload.rows.clone())];
    }
    let mut groups: Vec<RowGroup> = Vec::new();
    for row in &payload.rows {
        let present: Vec<String> = all
            .iter()
            .filter(|c| row.contains_key(*c))
            .cloned()
            .collect();
        match groups.iter_mut().find(|(k, _)| *k == present) {
            Some((_, rows)) => rows.push(row.clone()),
            None => groups.push((present, vec![row.clone()])),
        }
    }
    // A row with none of the columns still inserts (all defaults) as its own statement.
    groups
}
