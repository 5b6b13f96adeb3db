//! `/rpc/<fn>`: the overload chosen by argument names, the arguments bound once as JSON and
//! read with `json_to_record` typed by the cached parameter types, the call in `FROM` so
//! filters, order and pages apply to set-returning results.

use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::query::ast::{Count, MediaType, QueryParams, RangeHeader};
use crate::schema::{Column, Function, Returns, SchemaCache, Table, fuzzy};

use super::filter::{self, Scope};
use super::output::{BodyShape, Finish, finish};
use super::read::{check_embed_paths, embed_paths, root_conditions};
use super::select::Context;
use super::sql::{Param, Sql, ident, qualified};
use super::{CountPlan, Plan, PlanKind, page};

/// How the arguments arrive.
#[derive(Debug, Clone, PartialEq)]
pub enum RpcArgs {
    /// Named arguments: a POST body's object, or a GET's query parameters.
    Named(Map<String, Value>),
}

/// What a call needs.
pub struct RpcRequest<'a> {
    pub cache: &'a SchemaCache,
    pub schema: &'a str,
    pub name: &'a str,
    pub query: &'a QueryParams,
    pub args: RpcArgs,
    /// A POST with a JSON body (a single unnamed json/jsonb parameter may then take it all).
    pub json_post: bool,
    /// The raw body of a POST, for that single-parameter form.
    pub raw_body: Option<Value>,
    pub get: bool,
    pub range: Option<RangeHeader>,
    pub count: Option<Count>,
    pub media: MediaType,
    pub max_rows: Option<u64>,
    pub authenticated: bool,
}

/// How the chosen function takes its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Named,
    SingleJson,
}

fn single_unnamed_json(f: &Function) -> bool {
    f.params.len() == 1
        && f.params[0].name.is_empty()
        && matches!(f.params[0].data_type.as_str(), "json" | "jsonb")
}

/// The one overload of `schema.name` that takes exactly these argument names (every key is
/// a parameter, every parameter without a default is given).
fn resolve<'a>(r: &RpcRequest<'a>, keys: &[String]) -> Result<(&'a Function, Style), ApiError> {
    let overloads = r.cache.functions(r.schema, r.name);
    let fits: Vec<&Function> = overloads
        .iter()
        .filter(|f| {
            let names_fit = keys.iter().all(|k| f.params.iter().any(|p| p.name == *k));
            let required_given = f
                .params
                .iter()
                .all(|p| p.has_default || keys.contains(&p.name));
            // The single-json form takes a whole body, never named keys.
            names_fit && required_given && (!single_unnamed_json(f) || keys.is_empty())
        })
        .collect();
    match fits.len() {
        1 => return Ok((fits[0], Style::Named)),
        0 => {}
        _ => {
            return Err(ApiError::AmbiguousFunction {
                message: format!(
                    "Could not choose the best candidate function between: {}",
                    fits.iter()
                        .map(|f| format!(
                            "{}.{}({})",
                            f.schema,
                            f.name,
                            f.params
                                .iter()
                                .map(|p| format!("{} => {}", p.name, p.data_type))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
    }
    if r.json_post
        && let Some(f) = overloads.iter().find(|f| single_unnamed_json(f))
    {
        return Ok((f, Style::SingleJson));
    }
    Err(not_found(r, keys, overloads))
}

/// PGRST202 with PostgREST's message, details and fuzzy hint.
fn not_found(r: &RpcRequest, keys: &[String], overloads: &[Function]) -> ApiError {
    let func = format!("{}.{}", r.schema, r.name);
    let listed = keys.join(", ");
    let message = if keys.is_empty() {
        format!("Could not find the function {func} without parameters in the schema cache")
    } else {
        format!("Could not find the function {func}({listed}) in the schema cache")
    };
    let params = if keys.is_empty() {
        " without parameters".to_owned()
    } else {
        format!(
            " with parameter{} {listed}",
            if keys.len() > 1 { "s" } else { "" }
        )
    };
    let json_note = if r.json_post {
        " or with a single unnamed json/jsonb parameter"
    } else {
        ""
    };
    let details = format!(
        "Searched for the function {func}{params}{json_note}, but no matches were found in the schema cache."
    );
    let hint = if overloads.is_empty() {
        let names: Vec<&str> = r
            .cache
            .functions
            .keys()
            .filter(|(s, _)| s == r.schema)
            .map(|(_, n)| n.as_str())
            .collect();
        fuzzy::best(r.name, names.into_iter()).map(|n| format!("{}.{n}", r.schema))
    } else {
        let lists: Vec<String> = overloads
            .iter()
            .map(|f| {
                let mut names: Vec<&str> = f.params.iter().map(|p| p.name.as_str()).collect();
                names.sort();
                format!("({})", names.join(", "))
            })
            .collect();
        let mut sorted = keys.to_vec();
        sorted.sort();
        let wanted = format!("({})", sorted.join(", "));
        fuzzy::best(&wanted, lists.iter().map(String::as_str)).map(|l| format!("{func}{l}"))
    };
    ApiError::NoFunction {
        message,
        details,
        hint: hint.map(|h| format!("Perhaps you meant to call the function {h}")),
    }
}

/// The result columns of a composite function as a relation the planner can check names
/// against (the table itself when it returns a table's rows, so embedding works).
fn result_relation(cache: &SchemaCache, f: &Function) -> Table {
    if let Returns::Composite { columns, relation } = &f.returns {
        if let Some((s, n)) = relation
            && let Some(t) = cache.table(s, n)
        {
            return t.clone();
        }
        return Table {
            schema: f.schema.clone(),
            name: f.name.clone(),
            kind: "f".into(),
            insertable: false,
            updatable: false,
            deletable: false,
            columns: columns
                .iter()
                .enumerate()
                .map(|(i, (name, ty))| Column {
                    name: name.clone(),
                    data_type: ty.clone(),
                    cast_type: ty.clone(),
                    nullable: true,
                    default: None,
                    generated: false,
                    position: i as i16 + 1,
                    category: String::new(),
                })
                .collect(),
            keys: Vec::new(),
        };
    }
    Table {
        schema: f.schema.clone(),
        name: f.name.clone(),
        kind: "f".into(),
        insertable: false,
        updatable: false,
        deletable: false,
        columns: Vec::new(),
        keys: Vec::new(),
    }
}

/// Plans a call.
pub fn plan(r: RpcRequest) -> Result<Plan, ApiError> {
    let RpcArgs::Named(args) = &r.args;
    let mut keys: Vec<String> = args.keys().cloned().collect();
    keys.sort();
    let (f, style) = resolve(&r, &keys)?;

    let mut sql = Sql::default();
    let (args_cte, call_args) = match style {
        Style::SingleJson => {
            let body = r
                .raw_body
                .clone()
                .unwrap_or(Value::Object(args.clone()))
                .to_string();
            let p = sql.bind(Param::Text(body), r.authenticated)?;
            (
                format!(
                    "pgrst_args AS (SELECT {p}::{} AS pgrst_body)",
                    f.params[0].data_type
                ),
                "pgrst_args.pgrst_body".to_owned(),
            )
        }
        Style::Named => {
            let given: Vec<&crate::schema::Param> = f
                .params
                .iter()
                .filter(|p| args.contains_key(&p.name))
                .collect();
            if given.is_empty() {
                ("pgrst_args AS (SELECT)".to_owned(), String::new())
            } else {
                let p = sql.bind(
                    Param::Text(Value::Object(args.clone()).to_string()),
                    r.authenticated,
                )?;
                let defs = given
                    .iter()
                    .map(|a| format!("{} {}", ident(&a.name), a.data_type))
                    .collect::<Vec<_>>()
                    .join(", ");
                let call = given
                    .iter()
                    .map(|a| {
                        let v = if a.variadic { "VARIADIC " } else { "" };
                        format!("{v}{} := pgrst_args.{}", ident(&a.name), ident(&a.name))
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                (
                    format!(
                        "pgrst_args AS (SELECT * FROM json_to_record({p}::json) AS pgrst_a({defs}))"
                    ),
                    call,
                )
            }
        }
    };
    let call = format!(
        "FROM pgrst_args CROSS JOIN LATERAL {}({call_args}) pgrst_call",
        qualified(&f.schema, &f.name)
    );

    let (all, shape) = match &f.returns {
        Returns::Void => (format!("SELECT 1 {call}"), BodyShape::None),
        Returns::Scalar { .. } => (
            format!("SELECT pgrst_call AS pgrst_scalar {call}"),
            if f.returns_set {
                BodyShape::ScalarSet
            } else {
                BodyShape::SingleScalar
            },
        ),
        Returns::Composite { .. } => (
            format!("SELECT pgrst_call.* {call}"),
            if f.returns_set {
                BodyShape::Rows
            } else {
                BodyShape::SingleRow
            },
        ),
    };
    let mut ctes = vec![args_cte, format!("pgrst_all AS ({all})")];

    let (offset, limit) = page(
        r.query.ranges.iter().find(|p| p.path.is_empty()),
        r.range,
        r.max_rows.filter(|_| f.returns_set),
    );
    let mut where_sql = "TRUE".to_owned();
    let mut source = match &f.returns {
        Returns::Composite { .. } => {
            let table = result_relation(r.cache, f);
            let mut known = Vec::new();
            embed_paths(&r.query.select, &Vec::new(), &mut known);
            check_embed_paths(r.query, &known)?;
            let mut ctx = Context {
                cache: r.cache,
                schema: r.schema,
                query: r.query,
                authenticated: r.authenticated,
                aliases: 0,
            };
            let q = "pgrst_all";
            let proj = ctx.project(&mut sql, &table, q, &r.query.select, &Vec::new())?;
            let scope = Scope {
                table: &table,
                qualifier: q,
                authenticated: r.authenticated,
            };
            let conds = root_conditions(&mut sql, scope, r.query)?;
            if !conds.is_empty() {
                where_sql = conds.join(" AND ");
            }
            let mut order = Vec::new();
            for o in r.query.order.iter().filter(|o| o.path.is_empty()) {
                order.extend(filter::order(&mut sql, scope, &o.terms, None)?);
            }
            let mut s = format!(
                "SELECT {} FROM pgrst_all{} WHERE {where_sql}",
                proj.exprs.join(", "),
                proj.joins
                    .iter()
                    .map(|j| format!(" {j}"))
                    .collect::<String>()
            );
            if !order.is_empty() {
                s.push_str(&format!(" ORDER BY {}", order.join(", ")));
            }
            s
        }
        _ => "SELECT * FROM pgrst_all".to_owned(),
    };
    if let Some(limit) = limit {
        let p = sql.bind(Param::Int(limit as i64), r.authenticated)?;
        source.push_str(&format!(" LIMIT {p}::bigint"));
    }
    if offset > 0 {
        let p = sql.bind(Param::Int(offset as i64), r.authenticated)?;
        source.push_str(&format!(" OFFSET {p}::bigint"));
    }
    ctes.push(format!("pgrst_source AS ({source})"));
    let total = r
        .count
        .map(|_| format!("(SELECT count(*) FROM pgrst_all WHERE {where_sql})"));
    finish(
        &mut sql,
        Finish {
            ctes,
            count_from: "pgrst_source",
            body_from: "pgrst_source",
            shape,
            media: r.media,
            total,
            inserted: None,
            locations: None,
        },
    );
    Ok(Plan {
        sql,
        kind: PlanKind::Call {
            void: f.returns == Returns::Void,
        },
        read_only: r.get || f.read_only(),
        count: r.count.map(|_| CountPlan::Exact),
        offset,
        media: r.media,
        pk: Vec::new(),
        resource: f.name.clone(),
    })
}

/// Whether the function `schema.name` returns a set (for `max-affected`, PGRST128).
pub fn returns_set(cache: &SchemaCache, schema: &str, name: &str) -> bool {
    cache.functions(schema, name).iter().any(|f| f.returns_set)
}
