//! PUT's rules: a single-row upsert addressed by its whole primary key.

use serde_json::Value;

use crate::error::ApiError;
use crate::query::ast::{CompareOp, Condition, Operation, QueryParams};
use crate::schema::Table;

use super::payload::Payload;

/// PUT's rules: no limit/offset (PGRST114), filters exactly the primary key with `eq`
/// (PGRST105), one row whose key values match them (PGRST115).
pub fn check_put(table: &Table, query: &QueryParams, payload: &Payload) -> Result<(), ApiError> {
    if query
        .ranges
        .iter()
        .any(|r| r.path.is_empty() && (r.limit.is_some() || r.offset.is_some()))
    {
        return Err(ApiError::PutLimit);
    }
    let pk = table.primary_key();
    let mut values = Vec::new();
    for f in &query.filters {
        match (
            &f.condition,
            f.path.is_empty() && f.field.json_path.is_empty(),
        ) {
            (
                Condition {
                    negated: false,
                    operation:
                        Operation::Compare {
                            op: CompareOp::Eq,
                            value,
                        },
                },
                true,
            ) if pk.contains(&f.field.name) => values.push((f.field.name.clone(), value.clone())),
            _ => return Err(ApiError::PutFilters),
        }
    }
    let mut named: Vec<&String> = values.iter().map(|(n, _)| n).collect();
    named.sort();
    named.dedup();
    if pk.is_empty()
        || !query.logic.is_empty()
        || named.len() != pk.len()
        || values.len() != pk.len()
    {
        return Err(ApiError::PutFilters);
    }
    if payload.rows.len() != 1 {
        return Err(ApiError::InvalidBody(
            "PUT payload must contain a single row".into(),
        ));
    }
    let row = &payload.rows[0];
    for (name, value) in &values {
        let matches = match row.get(name) {
            Some(Value::String(s)) => s == value,
            Some(Value::Null) | None => false,
            Some(other) => serde_json::from_str::<Value>(value).ok().as_ref() == Some(other),
        };
        if !matches {
            return Err(ApiError::PutPkMismatch);
        }
    }
    Ok(())
}
