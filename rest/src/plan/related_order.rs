//! `order=rel(col)`: ordering the root by a column of a to-one embed.

use crate::error::ApiError;
use crate::query::ast::SelectItem;
use crate::schema::SchemaCache;
use crate::schema::Table;

use super::filter::{self, Scope};
use super::relationship::{Cardinality, relationship};
use super::sql::{Sql, ident, qualified};

/// `order=rel(col)` on the root: where the embeds it may name are.
pub struct RelatedOrder<'a> {
    pub cache: &'a SchemaCache,
    pub schema: &'a str,
    pub parent: &'a Table,
    pub parent_q: &'a str,
    pub items: &'a [SelectItem],
    pub authenticated: bool,
}

impl RelatedOrder<'_> {
    /// The column of the to-one embed `rel` as a correlated subquery (PGRST108 if `rel` is
    /// not embedded, PGRST118 if it is not to-one).
    pub fn expr(
        &self,
        sql: &mut Sql,
        rel: &str,
        field: &crate::query::ast::Field,
    ) -> Result<String, ApiError> {
        let embed = self
            .items
            .iter()
            .find_map(|i| match i {
                SelectItem::Embed(e) if e.alias.as_deref() == Some(rel) || e.relation == rel => {
                    Some(e)
                }
                _ => None,
            })
            .ok_or_else(|| ApiError::NotEmbedded(rel.to_owned()))?;
        let r = relationship(self.cache, self.schema, self.parent, embed)?;
        if matches!(
            r.cardinality,
            Cardinality::OneToMany | Cardinality::ManyToMany
        ) {
            return Err(ApiError::RelatedOrderNotToOne {
                origin: self.parent.name.clone(),
                target: rel.to_owned(),
            });
        }
        let scope = Scope {
            table: r.target,
            qualifier: "pgrst_o",
            authenticated: self.authenticated,
        };
        let (expr, _) = filter::field_expr(sql, scope, field)?;
        let conds: Vec<String> =
            r.fk.columns
                .iter()
                .zip(&r.fk.ref_columns)
                .map(|(c, rc)| format!("pgrst_o.{} = {}.{}", ident(rc), self.parent_q, ident(c)))
                .collect();
        Ok(format!(
            "(SELECT {expr} FROM {} AS pgrst_o WHERE {})",
            qualified(&r.target.schema, &r.target.name),
            conds.join(" AND ")
        ))
    }
}
