//! Which foreign key an embed means: many-to-one, one-to-many, one-to-one (a unique
//! foreign key) or many-to-many (through a junction table), picked by name and hint, with
//! PostgREST's PGRST200 and PGRST201 when there is no answer or more than one.

use serde_json::json;

use crate::error::ApiError;
use crate::query::ast::Embed;
use crate::schema::{ForeignKey, SchemaCache, Table};

/// Whether a relationship's embed is one object or an array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cardinality {
    ManyToOne,
    OneToMany,
    /// The other table's foreign key, whose columns are unique there: one object or null.
    OneToOne,
    /// Through a junction table holding foreign keys to both: an array.
    ManyToMany,
}

/// A foreign key seen from the parent of an embed.
#[derive(Debug, Clone)]
pub struct Relationship<'a> {
    /// The foreign key between the two (for many-to-many: the junction's key to the parent).
    pub fk: &'a ForeignKey,
    pub cardinality: Cardinality,
    pub target: &'a Table,
    /// Many-to-many: the junction table and its foreign key to the target.
    pub junction: Option<(&'a Table, &'a ForeignKey)>,
}

/// The one foreign key an embed means: PGRST200 when none, PGRST201 when several.
pub fn relationship<'a>(
    cache: &'a SchemaCache,
    schema: &str,
    parent: &Table,
    embed: &Embed,
) -> Result<Relationship<'a>, ApiError> {
    let mut found = Vec::new();
    for fk in &cache.foreign_keys {
        let from_parent = fk.schema == parent.schema && fk.table == parent.name;
        let to_parent = fk.ref_schema == parent.schema && fk.ref_table == parent.name;
        // By table name, or (to-one) by the foreign key's column or constraint name.
        if from_parent
            && fk.ref_schema == schema
            && (fk.ref_table == embed.relation
                || fk.columns == [embed.relation.clone()]
                || fk.name == embed.relation)
            && let Some(t) = cache.table(&fk.ref_schema, &fk.ref_table)
        {
            found.push(Relationship {
                fk,
                cardinality: Cardinality::ManyToOne,
                target: t,
                junction: None,
            });
        }
        if to_parent
            && fk.schema == schema
            && fk.table == embed.relation
            && let Some(t) = cache.table(&fk.schema, &fk.table)
        {
            // Unique foreign key columns make the reverse direction one-to-one.
            let unique = t.keys.iter().any(|k| {
                k.columns.len() == fk.columns.len()
                    && k.columns.iter().all(|c| fk.columns.contains(c))
            });
            found.push(Relationship {
                fk,
                cardinality: if unique {
                    Cardinality::OneToOne
                } else {
                    Cardinality::OneToMany
                },
                target: t,
                junction: None,
            });
        }
    }
    if found.is_empty() {
        found = many_to_many(cache, schema, parent, &embed.relation);
    }
    if let Some(hint) = &embed.hint {
        found.retain(|r| {
            r.fk.name == *hint
                || r.fk.columns.contains(hint)
                || r.fk.ref_columns.contains(hint)
                || r.junction
                    .is_some_and(|(j, to)| j.name == *hint || to.name == *hint)
        });
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(ApiError::NoRelationship {
            parent: parent.name.clone(),
            child: embed.relation.clone(),
            embed_hint: embed.hint.clone(),
            schema: schema.to_owned(),
            suggestion: suggestion(cache, schema, parent, &embed.relation),
        }),
        _ => Err(ambiguous(parent, &embed.relation, &found)),
    }
}

/// Junction tables between `parent` and `target`: a table with a foreign key to each whose
/// columns are all part of one of its keys (PostgREST's rule for many-to-many).
fn many_to_many<'a>(
    cache: &'a SchemaCache,
    schema: &str,
    parent: &Table,
    target: &str,
) -> Vec<Relationship<'a>> {
    let Some(target_table) = cache.table(schema, target) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for to_parent in cache.foreign_keys.iter().filter(|fk| {
        fk.ref_schema == parent.schema && fk.ref_table == parent.name && fk.schema == schema
    }) {
        let Some(junction) = cache.table(&to_parent.schema, &to_parent.table) else {
            continue;
        };
        if junction.name == parent.name || junction.name == target {
            continue;
        }
        for to_target in cache.foreign_keys.iter().filter(|fk| {
            fk.schema == junction.schema
                && fk.table == junction.name
                && fk.ref_schema == schema
                && fk.ref_table == target
                && fk.name != to_parent.name
        }) {
            let keyed = junction.keys.iter().any(|k| {
                to_parent
                    .columns
                    .iter()
                    .chain(&to_target.columns)
                    .all(|c| k.columns.contains(c))
            });
            if keyed {
                found.push(Relationship {
                    fk: to_parent,
                    cardinality: Cardinality::ManyToMany,
                    target: target_table,
                    junction: Some((junction, to_target)),
                });
            }
        }
    }
    found
}

fn suggestion(cache: &SchemaCache, schema: &str, parent: &Table, child: &str) -> Option<String> {
    let related = cache
        .foreign_keys
        .iter()
        .filter_map(|fk| {
            if fk.schema == parent.schema && fk.table == parent.name {
                Some(fk.ref_table.as_str())
            } else if fk.ref_schema == parent.schema && fk.ref_table == parent.name {
                Some(fk.table.as_str())
            } else {
                None
            }
        })
        .filter(|t| *t != child);
    let _ = schema;
    crate::schema::fuzzy::best(child, related)
        .map(|s| format!("Perhaps you meant '{s}' instead of '{child}'."))
}

fn ambiguous(parent: &Table, child: &str, found: &[Relationship]) -> ApiError {
    let details = found
        .iter()
        .map(|r| {
            let (card, cols_here, cols_there) = match r.cardinality {
                Cardinality::ManyToOne => ("many-to-one", &r.fk.columns, &r.fk.ref_columns),
                Cardinality::OneToMany => ("one-to-many", &r.fk.ref_columns, &r.fk.columns),
                Cardinality::OneToOne => ("one-to-one", &r.fk.ref_columns, &r.fk.columns),
                Cardinality::ManyToMany => ("many-to-many", &r.fk.ref_columns, &r.fk.columns),
            };
            json!({
                "cardinality": card,
                "embedding": format!("{} with {}", parent.name, r.target.name),
                "relationship": format!(
                    "{} using {}({}) and {}({})",
                    r.fk.name,
                    parent.name,
                    cols_here.join(", "),
                    r.target.name,
                    cols_there.join(", ")
                ),
            })
        })
        .collect();
    let options: Vec<String> = found
        .iter()
        .map(|r| format!("'{child}!{}'", r.fk.name))
        .collect();
    ApiError::AmbiguousRelationship {
        parent: parent.name.clone(),
        child: child.to_owned(),
        details: serde_json::Value::Array(details),
        hint: format!(
            "Try changing '{child}' to one of the following: {}. Find the desired relationship in the 'details' key.",
            options.join(", ")
        ),
    }
}
