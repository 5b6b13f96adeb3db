//! POST (insert, upsert), PATCH, PUT and DELETE as one data-modifying CTE named
//! `pgrst_source`. The payload is bound once as JSON and read with
//! `json_populate_recordset(NULL::table, $n)`, so PostgreSQL converts each value to its
//! column's type. `RETURNING` carries only what the response needs: `1` for a minimal one
//! (so no SELECT policy is needed), the primary key for `Location`, every column for a
//! representation.

use serde_json::Value;

use crate::error::ApiError;
use crate::query::ast::{Count, MediaType, Missing, QueryParams, Resolution, Returning};
use crate::schema::{SchemaCache, Table};

use super::filter::Scope;
use super::output::{BodyShape, Finish, finish};
use super::payload::{Payload, payload_columns, row_groups};
use super::put::check_put;
use super::read::{check_embed_paths, embed_paths, root_conditions};
use super::select::Context;
use super::sql::{Param, Sql, ident, qualified};
use super::{CountPlan, Plan, PlanKind};

/// What kind of write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteAction {
    Insert,
    Update,
    Delete,
    Put,
}

/// What a write needs.
pub struct WriteRequest<'a> {
    pub cache: &'a SchemaCache,
    pub schema: &'a str,
    pub table: &'a Table,
    pub query: &'a QueryParams,
    pub action: WriteAction,
    pub payload: Option<Payload>,
    pub returning: Returning,
    pub resolution: Option<Resolution>,
    pub missing: Option<Missing>,
    pub count: Option<Count>,
    pub media: MediaType,
    pub authenticated: bool,
}

/// Plans a write.
pub fn plan(r: WriteRequest) -> Result<Plan, ApiError> {
    let mut known = Vec::new();
    embed_paths(&r.query.select, &Vec::new(), &mut known);
    check_embed_paths(r.query, &known)?;

    let mut sql = Sql::default();
    let target = qualified(&r.table.schema, &r.table.name);
    let pk = r.table.primary_key().to_vec();
    let conflict: Option<Vec<String>> = match (&r.query.on_conflict, r.action) {
        (_, WriteAction::Put) => Some(pk.clone()),
        (Some(cols), _) => {
            for c in cols {
                if r.table.column(c).is_none() {
                    return Err(super::filter::undefined_column(r.table, c, r.authenticated));
                }
            }
            Some(cols.clone())
        }
        (None, _) if !pk.is_empty() => Some(pk.clone()),
        (None, _) => None,
    };
    // An upsert needs something to conflict on; without it the preference is ignored.
    let resolution = match r.action {
        WriteAction::Insert => r.resolution.filter(|_| conflict.is_some()),
        WriteAction::Put => Some(Resolution::MergeDuplicates),
        _ => None,
    };
    let merge = resolution == Some(Resolution::MergeDuplicates);

    let column_list = |cols: &[&str]| {
        cols.iter()
            .map(|c| format!("{target}.{}", ident(c)))
            .collect::<Vec<_>>()
    };
    let all_columns: Vec<&str> = r.table.columns.iter().map(|c| c.name.as_str()).collect();
    let mut returning = match r.returning {
        Returning::Representation => column_list(&all_columns),
        Returning::HeadersOnly if !pk.is_empty() => {
            column_list(&pk.iter().map(String::as_str).collect::<Vec<_>>())
        }
        _ => vec!["1".to_owned()],
    };
    if merge && r.table.kind != "v" {
        returning.push(format!("({target}.xmax = 0) AS pgrst_inserted"));
    }
    let returning = format!("RETURNING {}", returning.join(", "));

    let scope = Scope {
        table: r.table,
        qualifier: &target,
        authenticated: r.authenticated,
    };
    // A statement that touches nothing, for an empty payload.
    let nothing = format!("SELECT (NULL::{target}).*, TRUE AS pgrst_inserted WHERE FALSE");

    let source = match r.action {
        WriteAction::Insert | WriteAction::Put => {
            let payload = r
                .payload
                .as_ref()
                .expect("writes with a body have a payload");
            if r.action == WriteAction::Put {
                check_put(r.table, r.query, payload)?;
            }
            let cols = payload_columns(r.table, r.query, payload)?;
            if payload.rows.is_empty() {
                nothing
            } else if cols.is_empty() {
                format!("INSERT INTO {target} DEFAULT VALUES {returning}")
            } else {
                let names: Vec<String> = cols.iter().map(|c| ident(&c.name)).collect();
                let on_conflict = match (&resolution, &conflict) {
                    (Some(res), Some(target_cols)) => {
                        let tc = target_cols
                            .iter()
                            .map(|c| ident(c))
                            .collect::<Vec<_>>()
                            .join(", ");
                        match res {
                            Resolution::IgnoreDuplicates => {
                                format!(" ON CONFLICT ({tc}) DO NOTHING")
                            }
                            Resolution::MergeDuplicates => format!(
                                " ON CONFLICT ({tc}) DO UPDATE SET {}",
                                names
                                    .iter()
                                    .map(|n| format!("{n} = EXCLUDED.{n}"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        }
                    }
                    _ => String::new(),
                };
                let groups = row_groups(
                    payload,
                    &cols,
                    r.missing == Some(Missing::Default) && r.query.columns.is_some(),
                );
                let mut inserts = Vec::new();
                for (group_cols, rows) in groups {
                    let json =
                        Value::Array(rows.into_iter().map(Value::Object).collect()).to_string();
                    let p = sql.bind(Param::Text(json), r.authenticated)?;
                    let list = group_cols
                        .iter()
                        .map(|c| ident(c))
                        .collect::<Vec<_>>()
                        .join(", ");
                    // Without a column list every column takes its default.
                    let into = if list.is_empty() {
                        String::new()
                    } else {
                        format!(" ({list})")
                    };
                    inserts.push(format!(
                        "INSERT INTO {target}{into} SELECT {list} FROM json_populate_recordset(NULL::{target}, {p}::json) pgrst_body{on_conflict} {returning}"
                    ));
                }
                if inserts.len() == 1 {
                    inserts.remove(0)
                } else {
                    // Rows with different key sets (missing=default): one INSERT each, so
                    // absent columns take their defaults.
                    return plan_grouped(r, sql, inserts, resolution, pk);
                }
            }
        }
        WriteAction::Update => {
            let payload = r.payload.as_ref().expect("PATCH has a payload");
            let cols = payload_columns(r.table, r.query, payload)?;
            match payload.rows.first() {
                Some(row) if !cols.is_empty() => {
                    let conds = root_conditions(&mut sql, scope, r.query)?;
                    let p = sql.bind(
                        Param::Text(Value::Object(row.clone()).to_string()),
                        r.authenticated,
                    )?;
                    let sets = cols
                        .iter()
                        .map(|c| format!("{} = pgrst_body.{}", ident(&c.name), ident(&c.name)))
                        .collect::<Vec<_>>()
                        .join(", ");
                    format!(
                        "UPDATE {target} SET {sets} FROM (SELECT * FROM json_populate_record(NULL::{target}, {p}::json)) pgrst_body WHERE {} {returning}",
                        if conds.is_empty() {
                            "TRUE".into()
                        } else {
                            conds.join(" AND ")
                        }
                    )
                }
                // As PostgREST: nothing to set selects nothing, and the filters are not
                // planned (their values would be parameters no placeholder takes).
                _ => nothing,
            }
        }
        WriteAction::Delete => {
            let conds = root_conditions(&mut sql, scope, r.query)?;
            format!(
                "DELETE FROM {target} WHERE {} {returning}",
                if conds.is_empty() {
                    "TRUE".into()
                } else {
                    conds.join(" AND ")
                }
            )
        }
    };
    finish_write(
        r,
        sql,
        vec![format!("pgrst_source AS ({source})")],
        resolution,
        pk,
    )
}

fn plan_grouped(
    r: WriteRequest,
    sql: Sql,
    inserts: Vec<String>,
    resolution: Option<Resolution>,
    pk: Vec<String>,
) -> Result<Plan, ApiError> {
    let mut ctes: Vec<String> = inserts
        .iter()
        .enumerate()
        .map(|(i, ins)| format!("pgrst_i{i} AS ({ins})"))
        .collect();
    let union = (0..inserts.len())
        .map(|i| format!("SELECT * FROM pgrst_i{i}"))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    ctes.push(format!("pgrst_source AS ({union})"));
    finish_write(r, sql, ctes, resolution, pk)
}

fn finish_write(
    r: WriteRequest,
    mut sql: Sql,
    mut ctes: Vec<String>,
    resolution: Option<Resolution>,
    pk: Vec<String>,
) -> Result<Plan, ApiError> {
    let merge = resolution == Some(Resolution::MergeDuplicates);
    let representation = r.returning == Returning::Representation;
    let shape = if representation {
        BodyShape::Rows
    } else {
        BodyShape::None
    };
    let body_from = if representation {
        let mut ctx = Context {
            cache: r.cache,
            schema: r.schema,
            query: r.query,
            authenticated: r.authenticated,
            aliases: 0,
        };
        let proj = ctx.project(
            &mut sql,
            r.table,
            "pgrst_source",
            &r.query.select,
            &Vec::new(),
        )?;
        ctes.push(format!(
            "pgrst_rows AS (SELECT {} FROM pgrst_source{})",
            proj.exprs.join(", "),
            proj.joins
                .iter()
                .map(|j| format!(" {j}"))
                .collect::<String>()
        ));
        "pgrst_rows"
    } else {
        "pgrst_source"
    };
    let locations = (r.returning == Returning::HeadersOnly && !pk.is_empty()).then(|| {
        format!(
            "(SELECT json_agg(json_build_array({}))::text FROM pgrst_source)",
            pk.iter()
                .map(|c| format!("pgrst_source.{}::text", ident(c)))
                .collect::<Vec<_>>()
                .join(", ")
        )
    });
    let inserted = (merge && r.table.kind != "v")
        .then(|| "(SELECT count(*) FILTER (WHERE pgrst_inserted) FROM pgrst_source)".to_owned());
    let total = r
        .count
        .map(|_| "(SELECT count(*) FROM pgrst_source)".to_owned());
    finish(
        &mut sql,
        Finish {
            ctes,
            count_from: "pgrst_source",
            body_from,
            shape,
            media: r.media,
            total,
            inserted,
            locations,
        },
    );
    let kind = match (r.action, resolution) {
        (WriteAction::Insert, Some(_)) => PlanKind::Upsert { merge },
        (WriteAction::Insert, None) => PlanKind::Insert,
        (WriteAction::Update, _) => PlanKind::Update,
        (WriteAction::Delete, _) => PlanKind::Delete,
        (WriteAction::Put, _) => PlanKind::Put,
    };
    Ok(Plan {
        sql,
        kind,
        read_only: false,
        count: r.count.map(|_| CountPlan::Exact),
        offset: 0,
        media: r.media,
        pk,
        resource: r.table.name.clone(),
    })
}
