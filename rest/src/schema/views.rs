//! Foreign keys carried over to views, so a view can be embedded and embed like its tables.
//!
//! PostgREST follows each view column back to its table column through the view's query
//! tree. Here a view column stands for a table column when the view reads that column (its
//! rewrite rule depends on it) and has a column of the same name: views that select columns
//! as they are, the common case. Renamed columns are not followed.

use std::collections::HashMap;

use serde::Deserialize;

use super::{ForeignKey, Table};

/// One table column a view reads.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ViewColumn {
    pub view_schema: String,
    pub view: String,
    pub table_schema: String,
    pub table: String,
    pub column: String,
}

/// The views standing for `schema.table` on all of `columns`.
fn views_over<'a>(
    usage: &'a [ViewColumn],
    tables: &'a HashMap<(String, String), Table>,
    schema: &'a str,
    table: &'a str,
    columns: &'a [String],
) -> Vec<(String, String)> {
    let mut views: Vec<(String, String)> = usage
        .iter()
        .filter(|u| u.table_schema == schema && u.table == table)
        .map(|u| (u.view_schema.clone(), u.view.clone()))
        .collect();
    views.sort();
    views.dedup();
    views.retain(|(vs, v)| {
        let Some(view) = tables.get(&(vs.clone(), v.clone())) else {
            return false;
        };
        columns.iter().all(|c| {
            view.column(c).is_some()
                && usage.iter().any(|u| {
                    u.view_schema == *vs
                        && u.view == *v
                        && u.table_schema == schema
                        && u.table == table
                        && u.column == *c
                })
        })
    });
    views
}

/// The foreign keys of `fks` restated for views over either end.
pub fn foreign_keys(
    fks: &[ForeignKey],
    usage: &[ViewColumn],
    tables: &HashMap<(String, String), Table>,
) -> Vec<ForeignKey> {
    let mut out = Vec::new();
    for fk in fks {
        let mut from: Vec<(String, String)> = vec![(fk.schema.clone(), fk.table.clone())];
        from.extend(views_over(
            usage,
            tables,
            &fk.schema,
            &fk.table,
            &fk.columns,
        ));
        let mut to: Vec<(String, String)> = vec![(fk.ref_schema.clone(), fk.ref_table.clone())];
        to.extend(views_over(
            usage,
            tables,
            &fk.ref_schema,
            &fk.ref_table,
            &fk.ref_columns,
        ));
        for (i, (s, t)) in from.iter().enumerate() {
            for (j, (rs, rt)) in to.iter().enumerate() {
                if i == 0 && j == 0 {
                    continue; // the table's own key is already there
                }
                out.push(ForeignKey {
                    name: fk.name.clone(),
                    schema: s.clone(),
                    table: t.clone(),
                    columns: fk.columns.clone(),
                    ref_schema: rs.clone(),
                    ref_table: rt.clone(),
                    ref_columns: fk.ref_columns.clone(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Column;

    fn table(schema: &str, name: &str, kind: &str, cols: &[&str]) -> Table {
        Table {
            schema: schema.into(),
            name: name.into(),
            kind: kind.into(),
            insertable: true,
            updatable: true,
            deletable: true,
            columns: cols
                .iter()
                .map(|c| Column {
                    name: (*c).into(),
                    data_type: "integer".into(),
                    cast_type: "integer".into(),
                    nullable: true,
                    default: None,
                    generated: false,
                    position: 0,
                    category: "N".into(),
                })
                .collect(),
            keys: vec![],
        }
    }

    #[test]
    fn a_view_selecting_the_key_columns_inherits_the_key() {
        let mut tables = HashMap::new();
        for t in [
            table("private", "books", "r", &["id", "author_id"]),
            table("private", "authors", "r", &["id"]),
            table("api", "books", "v", &["id", "author_id"]),
            table("api", "authors", "v", &["id"]),
            table("api", "titles", "v", &["id"]),
        ] {
            tables.insert((t.schema.clone(), t.name.clone()), t);
        }
        let fk = ForeignKey {
            name: "books_author_id_fkey".into(),
            schema: "private".into(),
            table: "books".into(),
            columns: vec!["author_id".into()],
            ref_schema: "private".into(),
            ref_table: "authors".into(),
            ref_columns: vec!["id".into()],
        };
        let usage = |v: &str, t: &str, c: &str| ViewColumn {
            view_schema: "api".into(),
            view: v.into(),
            table_schema: "private".into(),
            table: t.into(),
            column: c.into(),
        };
        let used = vec![
            usage("books", "books", "id"),
            usage("books", "books", "author_id"),
            usage("authors", "authors", "id"),
            // Reads books.id but has no author_id: not a stand-in for the key.
            usage("titles", "books", "id"),
        ];
        let derived = foreign_keys(&[fk], &used, &tables);
        let pairs: Vec<(String, String)> = derived
            .iter()
            .map(|f| {
                (
                    format!("{}.{}", f.schema, f.table),
                    format!("{}.{}", f.ref_schema, f.ref_table),
                )
            })
            .collect();
        assert_eq!(
            pairs,
            [
                ("private.books".into(), "api.authors".into()),
                ("api.books".into(), "private.authors".into()),
                ("api.books".into(), "api.authors".into()),
            ]
        );
    }
}
