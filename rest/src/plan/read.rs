//! `GET`/`HEAD` on a table or view: the select list, root filters, order and page.

use crate::error::ApiError;
use crate::query::ast::Count;
use crate::query::ast::{EmbedPath, MediaType, QueryParams, RangeHeader};
use crate::schema::{SchemaCache, Table};

use super::filter::{self, Scope};
use super::output::{BodyShape, Finish, finish};
use super::select::{Context, Projection};
use super::sql::{Param, Sql, qualified};
use super::{CountPlan, Plan, PlanKind, page};

/// What a read needs besides the query.
pub struct ReadRequest<'a> {
    pub cache: &'a SchemaCache,
    pub schema: &'a str,
    pub table: &'a Table,
    pub query: &'a QueryParams,
    pub range: Option<RangeHeader>,
    pub count: Option<Count>,
    pub media: MediaType,
    pub max_rows: Option<u64>,
    pub authenticated: bool,
}

/// Root `WHERE` terms of `query` over `scope`.
pub fn root_conditions(
    sql: &mut Sql,
    scope: Scope,
    query: &QueryParams,
) -> Result<Vec<String>, ApiError> {
    embed_conditions(sql, scope, query, &[])
}

/// Root `WHERE` terms where a filter may also name an embed of the select
/// (`authors=not.is.null`: parents with, or without, a match), as PostgREST allows; only
/// `is.null` there (PGRST120).
fn embed_conditions(
    sql: &mut Sql,
    scope: Scope,
    query: &QueryParams,
    embeds: &[(String, String, String)],
) -> Result<Vec<String>, ApiError> {
    use crate::query::ast::{IsValue, Operation};
    let mut conds = Vec::new();
    for f in query.filters.iter().filter(|f| f.path.is_empty()) {
        let embed = embeds.iter().find(|(name, relation, _)| {
            f.field.json_path.is_empty()
                && (*name == f.field.name || *relation == f.field.name)
                && scope.table.column(&f.field.name).is_none()
        });
        if let Some((name, _, body)) = embed {
            let test = match f.condition.operation {
                Operation::Is(IsValue::Null) => "IS NULL",
                Operation::Is(IsValue::NotNull) => "IS NOT NULL",
                _ => return Err(ApiError::UnacceptableFilter(name.clone())),
            };
            let expr = format!("{body} {test}");
            conds.push(if f.condition.negated {
                format!("NOT ({expr})")
            } else {
                expr
            });
            continue;
        }
        conds.push(filter::condition(sql, scope, &f.field, &f.condition)?);
    }
    for l in query.logic.iter().filter(|l| l.path.is_empty()) {
        conds.push(filter::logic(sql, scope, &l.tree)?);
    }
    Ok(conds)
}

/// PGRST108 for a filter, order or page on an embed the select does not include.
pub fn check_embed_paths(query: &QueryParams, known: &[EmbedPath]) -> Result<(), ApiError> {
    let paths = query
        .filters
        .iter()
        .map(|f| &f.path)
        .chain(query.logic.iter().map(|l| &l.path))
        .chain(query.order.iter().map(|o| &o.path))
        .chain(query.ranges.iter().map(|r| &r.path));
    for p in paths {
        if !p.is_empty() && !known.contains(p) {
            return Err(ApiError::NotEmbedded(p.join(".")));
        }
    }
    Ok(())
}

/// Every embed path of a select list (by alias and by relation name).
pub fn embed_paths(
    items: &[crate::query::ast::SelectItem],
    at: &EmbedPath,
    out: &mut Vec<EmbedPath>,
) {
    for item in items {
        if let crate::query::ast::SelectItem::Embed(e) = item {
            for name in [e.alias.as_ref(), Some(&e.relation)].into_iter().flatten() {
                let mut p = at.clone();
                p.push(name.clone());
                embed_paths(&e.select, &p, out);
                out.push(p);
            }
        }
    }
}

/// Plans a read.
pub fn plan(r: ReadRequest) -> Result<Plan, ApiError> {
    let mut known = Vec::new();
    embed_paths(&r.query.select, &Vec::new(), &mut known);
    check_embed_paths(r.query, &known)?;

    let mut sql = Sql::default();
    let q = qualified(&r.table.schema, &r.table.name);
    let (exprs, from_where) = build_from_where(&r, &q, &mut sql)?;
    let scope = Scope {
        table: r.table,
        qualifier: &q,
        authenticated: r.authenticated,
    };
    let mut order = Vec::new();
    let related_order = super::related_order::RelatedOrder {
        cache: r.cache,
        schema: r.schema,
        parent: r.table,
        parent_q: &q,
        items: &r.query.select,
        authenticated: r.authenticated,
    };
    let related = |sql: &mut Sql, rel: &str, field: &crate::query::ast::Field| {
        related_order.expr(sql, rel, field)
    };
    for o in r.query.order.iter().filter(|o| o.path.is_empty()) {
        order.extend(filter::order(&mut sql, scope, &o.terms, Some(&related))?);
    }
    let root_range = r.query.ranges.iter().find(|p| p.path.is_empty());
    let (offset, limit) = page(root_range, r.range, r.max_rows);
    let mut source = format!("SELECT {} {from_where}", exprs.join(", "));
    if !order.is_empty() {
        source.push_str(&format!(" ORDER BY {}", order.join(", ")));
    }
    if let Some(limit) = limit {
        let p = sql.bind(Param::Int(limit as i64), r.authenticated)?;
        source.push_str(&format!(" LIMIT {p}::bigint"));
    }
    if offset > 0 {
        let p = sql.bind(Param::Int(offset as i64), r.authenticated)?;
        source.push_str(&format!(" OFFSET {p}::bigint"));
    }

    // The estimate's own statement, with its own parameters (PostgreSQL wants exactly the
    // ones a statement uses).
    let explain = |_: &Sql| -> Result<Sql, ApiError> {
        let mut e = Sql::default();
        let (_, fw) = build_from_where(&r, &q, &mut e)?;
        e.push(&format!("EXPLAIN (FORMAT JSON) SELECT 1 {fw}"));
        Ok(e)
    };
    let (total, count) = match r.count {
        None => (None, None),
        Some(Count::Exact) => (
            Some(format!(
                "(SELECT count(*) FROM (SELECT 1 {from_where}) pgrst_c)"
            )),
            Some(CountPlan::Exact),
        ),
        Some(Count::Planned) => (None, Some(CountPlan::Planned(explain(&sql)?))),
        Some(Count::Estimated) => match r.max_rows {
            None => (
                Some(format!(
                    "(SELECT count(*) FROM (SELECT 1 {from_where}) pgrst_c)"
                )),
                Some(CountPlan::Exact),
            ),
            Some(max) => {
                let p = sql.bind(Param::Int(max as i64 + 1), r.authenticated)?;
                (
                    Some(format!(
                        "(SELECT count(*) FROM (SELECT 1 {from_where} LIMIT {p}::bigint) pgrst_c)"
                    )),
                    Some(CountPlan::Estimated {
                        explain: explain(&sql)?,
                        max_rows: max,
                    }),
                )
            }
        },
    };
    finish(
        &mut sql,
        Finish {
            ctes: vec![format!("pgrst_source AS ({source})")],
            count_from: "pgrst_source",
            body_from: "pgrst_source",
            shape: BodyShape::Rows,
            media: r.media,
            total,
            inserted: None,
            locations: None,
        },
    );
    Ok(Plan {
        sql,
        kind: PlanKind::Read,
        read_only: true,
        count,
        offset,
        media: r.media,
        pk: r.table.primary_key().to_vec(),
        resource: r.table.name.clone(),
    })
}

/// The select list and `FROM ... WHERE ...` of a read, their values bound into `sql`.
fn build_from_where(
    r: &ReadRequest,
    q: &str,
    sql: &mut Sql,
) -> Result<(Vec<String>, String), ApiError> {
    let mut ctx = Context {
        cache: r.cache,
        schema: r.schema,
        query: r.query,
        authenticated: r.authenticated,
        aliases: 0,
    };
    let Projection {
        exprs,
        joins,
        embeds,
        ..
    } = ctx.project(sql, r.table, q, &r.query.select, &Vec::new())?;
    let scope = Scope {
        table: r.table,
        qualifier: q,
        authenticated: r.authenticated,
    };
    let conds = embed_conditions(sql, scope, r.query, &embeds)?;
    let text = format!(
        "FROM {q}{} WHERE {}",
        joins.iter().map(|j| format!(" {j}")).collect::<String>(),
        if conds.is_empty() {
            "TRUE".into()
        } else {
            conds.join(" AND ")
        }
    );
    Ok((exprs, text))
}
