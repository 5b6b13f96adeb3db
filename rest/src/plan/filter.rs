//! Filters, logic trees and `order` as SQL over one relation: columns checked against the
//! schema cache, values bound and cast to the column's cached type.

use crate::error::{ApiError, PgError};
use crate::query::ast::{
    CompareOp, Condition, Direction, Field, FtsOp, IsValue, JsonKey, JsonOp, LogicOp, LogicTree,
    Nulls, Operation, OrderTerm, Quantifier,
};
use crate::schema::Table;

use super::sql::{Param, Sql, ident};

/// The relation a clause is about and how the SQL names it.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub table: &'a Table,
    /// `"public"."t"` or an alias such as `"pgrst_1"`.
    pub qualifier: &'a str,
    pub authenticated: bool,
}

/// PostgreSQL's error for a column the relation does not have (PostgREST lets PostgreSQL
/// raise it; here the cache answers first, with the same text and PostgreSQL's hint: the
/// one closest column, when fewer than half the characters differ).
pub fn undefined_column(table: &Table, column: &str, authenticated: bool) -> ApiError {
    let mut best: Option<(usize, &str)> = None;
    let mut tie = false;
    for c in &table.columns {
        let d = crate::schema::fuzzy::levenshtein(column, &c.name);
        if d > column.chars().count() / 2 {
            continue;
        }
        match best {
            Some((bd, _)) if d > bd => {}
            Some((bd, _)) if d == bd => tie = true,
            _ => {
                best = Some((d, &c.name));
                tie = false;
            }
        }
    }
    let hint = best.filter(|_| !tie).map(|(_, name)| {
        format!(
            "Perhaps you meant to reference the column \"{}.{name}\".",
            table.name
        )
    });
    ApiError::Postgres {
        error: PgError {
            code: "42703".into(),
            message: format!("column {}.{column} does not exist", table.name),
            detail: None,
            hint,
        },
        authenticated,
    }
}

/// `qualifier."col"->$1->>$2` and the type of its value.
pub fn field_expr(
    sql: &mut Sql,
    scope: Scope,
    field: &Field,
) -> Result<(String, String), ApiError> {
    let column = scope
        .table
        .column(&field.name)
        .ok_or_else(|| undefined_column(scope.table, &field.name, scope.authenticated))?;
    let mut expr = format!("{}.{}", scope.qualifier, ident(&column.name));
    let mut data_type = column.cast_type.clone();
    for op in &field.json_path {
        let (arrow, key) = match op {
            JsonOp::Arrow(k) => ("->", k),
            JsonOp::DoubleArrow(k) => ("->>", k),
        };
        let key = match key {
            JsonKey::Key(k) => format!(
                "{}::text",
                sql.bind(Param::Text(k.clone()), scope.authenticated)?
            ),
            JsonKey::Index(i) => format!("{}::int", sql.bind(Param::Int(*i), scope.authenticated)?),
        };
        expr = format!("{expr}{arrow}{key}");
        data_type = match arrow {
            "->>" => "text".into(),
            _ if data_type == "json" => "json".into(),
            _ => "jsonb".into(),
        };
    }
    Ok((expr, data_type))
}

fn compare_sql(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq => "=",
        CompareOp::Neq => "<>",
        CompareOp::Gt => ">",
        CompareOp::Gte => ">=",
        CompareOp::Lt => "<",
        CompareOp::Lte => "<=",
        CompareOp::Like => "LIKE",
        CompareOp::Ilike => "ILIKE",
        CompareOp::Match => "~",
        CompareOp::Imatch => "~*",
        CompareOp::IsDistinct => "IS DISTINCT FROM",
        CompareOp::Cs => "@>",
        CompareOp::Cd => "<@",
        CompareOp::Ov => "&&",
        CompareOp::Sl => "<<",
        CompareOp::Sr => ">>",
        CompareOp::Nxr => "&<",
        CompareOp::Nxl => "&>",
        CompareOp::Adj => "-|-",
    }
}

/// Pattern operators take text whatever the column is.
fn is_text_op(op: CompareOp) -> bool {
    matches!(
        op,
        CompareOp::Like | CompareOp::Ilike | CompareOp::Match | CompareOp::Imatch
    )
}

/// One `field op value` as a boolean SQL expression.
pub fn condition(
    sql: &mut Sql,
    scope: Scope,
    field: &Field,
    cond: &Condition,
) -> Result<String, ApiError> {
    let (expr, data_type) = field_expr(sql, scope, field)?;
    let auth = scope.authenticated;
    let body = match &cond.operation {
        Operation::Compare { op, value } => {
            let ty = if is_text_op(*op) {
                "text"
            } else {
                data_type.as_str()
            };
            let p = sql.bind_as(value, ty, auth)?;
            format!("{expr} {} {p}", compare_sql(*op))
        }
        Operation::Quantified {
            op,
            quantifier,
            values,
        } => {
            let ty = if is_text_op(*op) {
                "text"
            } else {
                data_type.as_str()
            };
            let p = sql.bind(Param::TextArray(values.clone()), auth)?;
            let q = match quantifier {
                Quantifier::Any => "ANY",
                Quantifier::All => "ALL",
            };
            format!("{expr} {} {q}({p}::{ty}[])", compare_sql(*op))
        }
        Operation::In(values) => {
            let p = sql.bind(Param::TextArray(values.clone()), auth)?;
            format!("{expr} = ANY({p}::{data_type}[])")
        }
        Operation::Is(v) => {
            let what = match v {
                IsValue::Null => "NULL",
                IsValue::NotNull => "NOT NULL",
                IsValue::True => "TRUE",
                IsValue::False => "FALSE",
                IsValue::Unknown => "UNKNOWN",
            };
            format!("{expr} IS {what}")
        }
        Operation::Fts { op, config, value } => {
            let func = match op {
                FtsOp::Fts => "to_tsquery",
                FtsOp::Plain => "plainto_tsquery",
                FtsOp::Phrase => "phraseto_tsquery",
                FtsOp::Websearch => "websearch_to_tsquery",
            };
            let config = match config {
                Some(c) => Some(format!(
                    "{}::regconfig",
                    sql.bind(Param::Text(c.clone()), auth)?
                )),
                None => None,
            };
            let p = sql.bind(Param::Text(value.clone()), auth)?;
            let target = if data_type == "tsvector" {
                expr
            } else {
                match &config {
                    Some(c) => format!("to_tsvector({c}, {expr})"),
                    None => format!("to_tsvector({expr})"),
                }
            };
            match config {
                Some(c) => format!("{target} @@ {func}({c}, {p}::text)"),
                None => format!("{target} @@ {func}({p}::text)"),
            }
        }
    };
    Ok(if cond.negated {
        format!("NOT ({body})")
    } else {
        body
    })
}

/// An `or=(...)`/`and=(...)` tree.
pub fn logic(sql: &mut Sql, scope: Scope, tree: &LogicTree) -> Result<String, ApiError> {
    match tree {
        LogicTree::Condition {
            field,
            condition: c,
        } => condition(sql, scope, field, c),
        LogicTree::Expr {
            negated,
            op,
            children,
        } => {
            let joiner = match op {
                LogicOp::And => " AND ",
                LogicOp::Or => " OR ",
            };
            let parts = children
                .iter()
                .map(|c| logic(sql, scope, c))
                .collect::<Result<Vec<_>, _>>()?;
            let inner = if parts.is_empty() {
                // PostgreSQL's identities: an empty AND holds, an empty OR does not.
                match op {
                    LogicOp::And => "TRUE".into(),
                    LogicOp::Or => "FALSE".into(),
                }
            } else {
                parts.join(joiner)
            };
            Ok(if *negated {
                format!("NOT ({inner})")
            } else {
                format!("({inner})")
            })
        }
    }
}

/// Orders by a column of a to-one embed: `order=clients(name)` gives that column's SQL.
pub type RelatedOrder<'a> = &'a dyn Fn(&mut Sql, &str, &Field) -> Result<String, ApiError>;

/// `ORDER BY` terms (without the keywords). `related` resolves `rel(col)` terms; without it
/// they are PGRST108 (no embed to order by).
pub fn order(
    sql: &mut Sql,
    scope: Scope,
    terms: &[OrderTerm],
    related: Option<RelatedOrder>,
) -> Result<Vec<String>, ApiError> {
    terms
        .iter()
        .map(|t| {
            let expr = match (&t.relation, related) {
                (None, _) => field_expr(sql, scope, &t.field)?.0,
                (Some(rel), Some(resolve)) => resolve(sql, rel, &t.field)?,
                (Some(rel), None) => return Err(ApiError::NotEmbedded(rel.clone())),
            };
            let dir = match t.direction {
                Some(Direction::Desc) => " DESC",
                Some(Direction::Asc) | None => " ASC",
            };
            let nulls = match t.nulls {
                Some(Nulls::First) => " NULLS FIRST",
                Some(Nulls::Last) => " NULLS LAST",
                None => "",
            };
            Ok(format!("{expr}{dir}{nulls}"))
        })
        .collect()
}
