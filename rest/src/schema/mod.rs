//! The schema cache: the tables, columns, keys, foreign keys and functions of the exposed
//! schemas, read from the catalog ([`load`]) at start and on `NOTIFY pgrst, 'reload schema'`.
//! The planner checks every name a request uses against it, so no identifier reaches SQL
//! unless the catalog has it.

pub mod fuzzy;
mod load;
mod views;

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

pub use load::{check_schemas, load};

/// A column of a table or view.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Column {
    pub name: String,
    /// `format_type(atttypid, atttypmod)`: also what values are cast to.
    #[serde(rename = "type")]
    pub data_type: String,
    /// The type without its modifier (`character varying` for `character varying(5)`): what
    /// filter values are cast to, since an explicit cast to `varchar(5)` would truncate a
    /// longer value into a false match.
    pub cast_type: String,
    pub nullable: bool,
    pub default: Option<String>,
    pub generated: bool,
    pub position: i16,
    /// `pg_type.typcategory`: `S` string, `U` user (json, uuid...), `A` array...
    pub category: String,
}

/// A primary key or unique constraint.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Key {
    /// `p` or `u`.
    pub kind: String,
    pub name: String,
    pub columns: Vec<String>,
}

/// A foreign key from `schema.table(columns)` to `ref_schema.ref_table(ref_columns)`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ForeignKey {
    pub name: String,
    pub schema: String,
    pub table: String,
    pub columns: Vec<String>,
    pub ref_schema: String,
    pub ref_table: String,
    pub ref_columns: Vec<String>,
}

/// A table, view, materialized view, foreign table or partitioned table.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Table {
    pub schema: String,
    pub name: String,
    /// `pg_class.relkind`: r, v, m, f, p.
    pub kind: String,
    /// Whether rows can be inserted, updated, deleted (tables always; views and foreign
    /// tables per `pg_relation_is_updatable`), for OPTIONS' `Allow`.
    #[serde(default)]
    pub insertable: bool,
    #[serde(default)]
    pub updatable: bool,
    #[serde(default)]
    pub deletable: bool,
    pub columns: Vec<Column>,
    pub keys: Vec<Key>,
}

impl Table {
    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The primary key's columns (empty when there is none).
    pub fn primary_key(&self) -> &[String] {
        self.keys
            .iter()
            .find(|k| k.kind == "p")
            .map(|k| k.columns.as_slice())
            .unwrap_or(&[])
    }
}

/// A function argument.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct FunctionArg {
    /// Empty for an unnamed argument.
    pub name: String,
    #[serde(rename = "type")]
    pub data_type: String,
    /// `pg_proc.proargmodes`: i, o, b (inout), v (variadic), t (table column).
    pub mode: String,
}

/// What a function returns.
#[derive(Debug, Clone, PartialEq)]
pub enum Returns {
    Void,
    /// A base, domain, enum or array type.
    Scalar {
        data_type: String,
    },
    /// A row type or `RETURNS TABLE`/OUT arguments: these columns; `relation` is the table
    /// or view whose row type it is, if any (embedding then works on the result).
    Composite {
        columns: Vec<(String, String)>,
        relation: Option<(String, String)>,
    },
}

/// A function callable as `/rpc/<name>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    pub schema: String,
    pub name: String,
    /// Input arguments in order, with whether each has a default.
    pub params: Vec<Param>,
    pub returns: Returns,
    pub returns_set: bool,
    /// `pg_proc.provolatile`: i, s or v.
    pub volatility: char,
    pub variadic: bool,
}

/// An input argument.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    pub data_type: String,
    pub has_default: bool,
    pub variadic: bool,
}

impl Function {
    /// Whether a POST may run READ ONLY (STABLE or IMMUTABLE).
    pub fn read_only(&self) -> bool {
        self.volatility != 'v'
    }
}

/// Everything loaded for the exposed schemas.
#[derive(Debug, Clone, Default)]
pub struct SchemaCache {
    pub tables: HashMap<(String, String), Table>,
    pub foreign_keys: Vec<ForeignKey>,
    pub functions: HashMap<(String, String), Vec<Function>>,
    /// `pg_type.typname` of every type: the only names a `::cast` may use.
    pub type_names: HashSet<String>,
    /// `pg_timezone_names`: the only values `Prefer: timezone=` may take.
    pub timezones: HashSet<String>,
    /// Per-role settings PostgREST applies in each transaction (`ALTER ROLE anon SET
    /// statement_timeout = '3s'`; a role switch inside a transaction would not apply them).
    pub role_settings: HashMap<String, Vec<(String, String)>>,
}

impl SchemaCache {
    /// The table `schema.name`.
    pub fn table(&self, schema: &str, name: &str) -> Option<&Table> {
        self.tables.get(&(schema.to_owned(), name.to_owned()))
    }

    /// The closest table name in `schema`, for PGRST205's hint.
    pub fn similar_table(&self, schema: &str, name: &str) -> Option<String> {
        fuzzy::best(
            name,
            self.tables
                .keys()
                .filter(|(s, _)| s == schema)
                .map(|(_, t)| t.as_str()),
        )
    }

    /// The overloads of `schema.name`.
    pub fn functions(&self, schema: &str, name: &str) -> &[Function] {
        self.functions
            .get(&(schema.to_owned(), name.to_owned()))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}
