//! The `select` list as SQL: columns, renames, casts, JSON paths, and embedded resources as
//! lateral joins over foreign keys (many-to-one → an object or null, one-to-many → an array,
//! `!inner` drops parents without a match, `...` spreads a to-one embed's columns).

use crate::error::{ApiError, PgError};
use crate::query::ast::{Embed, EmbedPath, JoinType, JsonKey, JsonOp, QueryParams, SelectItem};
use crate::schema::{SchemaCache, Table};

use super::filter::{self, Scope};
use super::relationship::{Cardinality, relationship};
use super::sql::{Param, Sql, ident, qualified};

/// What a select list needs from the request.
pub struct Context<'a> {
    pub cache: &'a SchemaCache,
    pub schema: &'a str,
    pub query: &'a QueryParams,
    pub authenticated: bool,
    /// Aliases handed out so far (`pgrst_1`, `pgrst_2`...).
    pub aliases: usize,
}

/// A select list: output expressions and the joins they read from.
#[derive(Debug, Default)]
pub struct Projection {
    /// `expr AS "name"`.
    pub exprs: Vec<String>,
    /// The output names, in order.
    pub names: Vec<String>,
    /// `LEFT JOIN LATERAL (...) AS "pgrst_1_j" ON TRUE`.
    pub joins: Vec<String>,
    /// Each embed's name and relation, with the SQL of its raw body (NULL when nothing
    /// matched), for `embed=is.null` filters.
    pub embeds: Vec<(String, String, String)>,
}

impl Context<'_> {
    /// An output name the client chose (an alias, a JSON key), quoted. It is the one
    /// identifier not from the catalog; a NUL byte in it is refused as PostgreSQL would.
    fn output_name(&self, name: &str) -> Result<String, ApiError> {
        if name.contains('\0') {
            return Err(ApiError::nul_byte(self.authenticated));
        }
        Ok(ident(name))
    }

    fn next_alias(&mut self) -> String {
        self.aliases += 1;
        format!("pgrst_{}", self.aliases)
    }

    /// `table`'s select list for `items`, its columns read through `qualifier`, at `path`.
    pub fn project(
        &mut self,
        sql: &mut Sql,
        table: &Table,
        qualifier: &str,
        items: &[SelectItem],
        path: &EmbedPath,
    ) -> Result<Projection, ApiError> {
        let scope = Scope {
            table,
            qualifier,
            authenticated: self.authenticated,
        };
        let mut out = Projection::default();
        for item in items {
            match item {
                SelectItem::Star => {
                    for c in &table.columns {
                        out.exprs.push(format!("{qualifier}.{}", ident(&c.name)));
                        out.names.push(c.name.clone());
                    }
                }
                SelectItem::Column { field, alias, cast } => {
                    let (mut expr, _) = filter::field_expr(sql, scope, field)?;
                    if let Some(cast) = cast {
                        if !self.cache.type_names.contains(cast) {
                            return Err(undefined_type(cast, self.authenticated));
                        }
                        expr = format!("CAST({expr} AS {})", ident(cast));
                    }
                    let name = alias.clone().unwrap_or_else(|| default_name(field));
                    out.exprs
                        .push(format!("{expr} AS {}", self.output_name(&name)?));
                    out.names.push(name);
                }
                SelectItem::Embed(embed) => {
                    self.embed(sql, table, qualifier, embed, path, &mut out)?
                }
                SelectItem::Aggregate { .. } => return Err(ApiError::AggregatesNotAllowed),
            }
        }
        Ok(out)
    }

    fn embed(
        &mut self,
        sql: &mut Sql,
        parent: &Table,
        parent_q: &str,
        embed: &Embed,
        path: &EmbedPath,
        out: &mut Projection,
    ) -> Result<(), ApiError> {
        let rel = relationship(self.cache, self.schema, parent, embed)?;
        let child = rel.target;
        let alias = self.next_alias();
        let child_q = ident(&alias);
        let name = embed
            .alias
            .clone()
            .unwrap_or_else(|| embed.relation.clone());
        let mut child_path = path.clone();
        child_path.push(name.clone());

        let proj = self.project(sql, child, &child_q, &embed.select, &child_path)?;
        let junction_q = ident(&format!("{alias}_x"));
        let mut conds: Vec<String> = rel
            .fk
            .columns
            .iter()
            .zip(&rel.fk.ref_columns)
            .map(|(col, ref_col)| match rel.cardinality {
                Cardinality::ManyToOne => {
                    format!("{child_q}.{} = {parent_q}.{}", ident(ref_col), ident(col))
                }
                Cardinality::OneToMany | Cardinality::OneToOne => {
                    format!("{child_q}.{} = {parent_q}.{}", ident(col), ident(ref_col))
                }
                Cardinality::ManyToMany => {
                    format!(
                        "{junction_q}.{} = {parent_q}.{}",
                        ident(col),
                        ident(ref_col)
                    )
                }
            })
            .collect();
        // Many-to-many: the target's rows joined through the junction table.
        let through = match rel.junction {
            Some((junction, to_target)) => format!(
                " JOIN {} AS {junction_q} ON {}",
                qualified(&junction.schema, &junction.name),
                to_target
                    .columns
                    .iter()
                    .zip(&to_target.ref_columns)
                    .map(|(c, rc)| format!("{junction_q}.{} = {child_q}.{}", ident(c), ident(rc)))
                    .collect::<Vec<_>>()
                    .join(" AND ")
            ),
            None => String::new(),
        };
        let scope = Scope {
            table: child,
            qualifier: &child_q,
            authenticated: self.authenticated,
        };
        let at = |p: &EmbedPath| embed_path_matches(p, path, &name, &embed.relation);
        for f in self.query.filters.iter().filter(|f| at(&f.path)) {
            conds.push(filter::condition(sql, scope, &f.field, &f.condition)?);
        }
        for l in self.query.logic.iter().filter(|l| at(&l.path)) {
            conds.push(filter::logic(sql, scope, &l.tree)?);
        }
        let mut order = Vec::new();
        for o in self.query.order.iter().filter(|o| at(&o.path)) {
            order.extend(filter::order(sql, scope, &o.terms, None)?);
        }
        let mut subquery = format!(
            "SELECT {} FROM {} AS {child_q}{through}{} WHERE {}",
            proj.exprs.join(", "),
            qualified(&child.schema, &child.name),
            proj.joins
                .iter()
                .map(|j| format!(" {j}"))
                .collect::<String>(),
            conds.join(" AND ")
        );
        if !order.is_empty() {
            subquery.push_str(&format!(" ORDER BY {}", order.join(", ")));
        }
        if let Some(range) = self.query.ranges.iter().find(|r| at(&r.path)) {
            if let Some(limit) = range.limit {
                let p = sql.bind(Param::Int(limit as i64), self.authenticated)?;
                subquery.push_str(&format!(" LIMIT {p}::bigint"));
            }
            if let Some(offset) = range.offset {
                let p = sql.bind(Param::Int(offset as i64), self.authenticated)?;
                subquery.push_str(&format!(" OFFSET {p}::bigint"));
            }
        }

        let joined = ident(&format!("{alias}_j"));
        let inner = embed.join == Some(JoinType::Inner);
        if embed.spread {
            if matches!(
                rel.cardinality,
                Cardinality::OneToMany | Cardinality::ManyToMany
            ) {
                return Err(ApiError::NotImplemented(format!(
                    "Spreading the to-many embed '{name}' is not supported by this server"
                )));
            }
            let kind = if inner { "INNER" } else { "LEFT" };
            out.joins.push(format!(
                "{kind} JOIN LATERAL ({subquery}) AS {joined} ON TRUE"
            ));
            for n in &proj.names {
                out.exprs
                    .push(format!("{joined}.{} AS {}", ident(n), ident(n)));
                out.names.push(n.clone());
            }
            return Ok(());
        }
        let (agg, on, value) = match rel.cardinality {
            Cardinality::ManyToOne | Cardinality::OneToOne => (
                "row_to_json(pgrst_row)",
                "TRUE".to_owned(),
                format!("{joined}.body"),
            ),
            Cardinality::OneToMany | Cardinality::ManyToMany => (
                "json_agg(pgrst_row)",
                if inner {
                    format!("{joined}.body IS NOT NULL")
                } else {
                    "TRUE".into()
                },
                format!("coalesce({joined}.body, '[]'::json)"),
            ),
        };
        let kind = if inner { "INNER" } else { "LEFT" };
        out.joins.push(format!(
            "{kind} JOIN LATERAL (SELECT {agg} AS body FROM ({subquery}) pgrst_row) AS {joined} ON {on}"
        ));
        out.embeds.push((
            name.clone(),
            embed.relation.clone(),
            format!("{joined}.body"),
        ));
        // An empty select (`rel()`) embeds for filtering only.
        if !embed.select.is_empty() {
            out.exprs
                .push(format!("{value} AS {}", self.output_name(&name)?));
            out.names.push(name);
        }
        Ok(())
    }
}

/// Whether a query key's embed path names the embed `name`/`relation` under `parent`.
fn embed_path_matches(p: &EmbedPath, parent: &EmbedPath, name: &str, relation: &str) -> bool {
    p.len() == parent.len() + 1
        && p[..parent.len()] == parent[..]
        && (p[parent.len()] == name || p[parent.len()] == relation)
}

/// PostgREST names a JSON path after its last key, a column after itself.
fn default_name(field: &crate::query::ast::Field) -> String {
    match field.json_path.last() {
        Some(JsonOp::Arrow(JsonKey::Key(k)) | JsonOp::DoubleArrow(JsonKey::Key(k))) => k.clone(),
        Some(JsonOp::Arrow(JsonKey::Index(_)) | JsonOp::DoubleArrow(JsonKey::Index(_))) | None => {
            field.name.clone()
        }
    }
}

/// PostgreSQL's error for a cast to a type that does not exist.
fn undefined_type(name: &str, authenticated: bool) -> ApiError {
    ApiError::Postgres {
        error: PgError {
            code: "42704".into(),
            message: format!("type \"{name}\" does not exist"),
            detail: None,
            hint: None,
        },
        authenticated,
    }
}
