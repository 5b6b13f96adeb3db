//! The planner's SQL for each construct: identifiers quoted from the cache, values only as
//! parameters, unknown names refused with PostgREST's errors.

mod read;
mod write;

use std::collections::HashMap;

use super::read::ReadRequest;
use super::*;
use crate::error::ApiError;
use crate::query::ast::*;
use crate::schema::{Column, ForeignKey, Key, SchemaCache, Table};

pub(super) fn col(name: &str, ty: &str) -> Column {
    Column {
        name: name.into(),
        data_type: ty.into(),
        cast_type: ty.into(),
        nullable: true,
        default: None,
        generated: false,
        position: 0,
        category: "S".into(),
    }
}

pub(super) fn cache() -> SchemaCache {
    let table = |name: &str, cols: Vec<Column>| Table {
        schema: "public".into(),
        name: name.into(),
        kind: "r".into(),
        insertable: true,
        updatable: true,
        deletable: true,
        columns: cols,
        keys: vec![Key {
            kind: "p".into(),
            name: format!("{name}_pkey"),
            columns: vec!["id".into()],
        }],
    };
    let mut tables = HashMap::new();
    for t in [
        table(
            "books",
            vec![
                col("id", "integer"),
                col("title", "text"),
                col("author_id", "integer"),
                col("meta", "jsonb"),
                col("isbn", "uuid"),
            ],
        ),
        table("authors", vec![col("id", "integer"), col("name", "text")]),
    ] {
        tables.insert((t.schema.clone(), t.name.clone()), t);
    }
    SchemaCache {
        tables,
        foreign_keys: vec![ForeignKey {
            name: "books_author_id_fkey".into(),
            schema: "public".into(),
            table: "books".into(),
            columns: vec!["author_id".into()],
            ref_schema: "public".into(),
            ref_table: "authors".into(),
            ref_columns: vec!["id".into()],
        }],
        functions: HashMap::new(),
        type_names: ["text", "int4"].into_iter().map(String::from).collect(),
        timezones: Default::default(),
        role_settings: Default::default(),
    }
}

pub(super) fn query() -> QueryParams {
    QueryParams {
        select: vec![SelectItem::Star],
        filters: vec![],
        logic: vec![],
        order: vec![],
        ranges: vec![],
        columns: None,
        on_conflict: None,
        rpc_args: vec![],
        canonical: String::new(),
    }
}

pub(super) fn filter(name: &str, op: CompareOp, value: &str) -> Filter {
    Filter {
        path: vec![],
        field: Field::column(name),
        condition: Condition {
            negated: false,
            operation: Operation::Compare {
                op,
                value: value.into(),
            },
        },
    }
}

pub(super) fn read(q: &QueryParams, table: &str) -> Result<Plan, ApiError> {
    let c = cache();
    let t = c.table("public", table).unwrap().clone();
    crate::plan::read::plan(ReadRequest {
        cache: &c,
        schema: "public",
        table: &t,
        query: q,
        range: None,
        count: None,
        media: MediaType::Json,
        max_rows: None,
        authenticated: true,
    })
}

pub(super) const HOSTILE: &str = "x'); drop table books; --";
