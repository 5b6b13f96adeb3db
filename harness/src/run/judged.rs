//! What the invariants judge: which stage's answers under faults, where that stage's
//! acknowledged writes land, and how long it may take to answer.
//!
//! Without a project it is the reference stage, the `sessionId` of its answers and
//! `public.sessions`, as the built-in scenarios' snapshots show. A project names its own in
//! harness.toml's `[invariants]`; a project that names no writes table gets no acknowledged-writes
//! invariant rather than one read from a table it may not have.

use std::time::Duration;

use sqlx::PgConnection;

use super::ServiceTimeouts;
use super::invariants::REFERENCE;

/// The JSON field of the reference stage's answers that holds the id of the row it wrote.
pub(crate) const REFERENCE_ID_FIELD: &str = "sessionId";

/// Which stage the invariants judge, and what they read to judge it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvariantSpec {
    /// A built-in stage or a project's service name.
    pub stage: String,
    /// Where the stage's acknowledged writes are; `None`: that invariant is not checked.
    pub writes: Option<WriteTable>,
    pub budget: Budget,
}

/// How long the judged stage may take to answer while a dependency is broken (plus
/// [`super::invariants::HANG_MARGIN`]), and which latencies count as breaking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// The stack's service timeouts: the built-in stages' own budgets.
    Stack,
    /// One budget per faulted dependency, as the service declares it.
    Each(Duration),
    /// Not known: hangs are not checked, and every latency only degrades.
    Unknown,
}

impl Budget {
    /// The budgets to judge with, given the stack's.
    pub fn timeouts(self, stack: Option<ServiceTimeouts>) -> Option<ServiceTimeouts> {
        match self {
            Budget::Stack => stack,
            // The service's own budget; requests through the gateway keep the gateway's.
            Budget::Each(each) => Some(ServiceTimeouts {
                auth: each,
                db: each,
                gateway: stack.map_or(each, |stack| stack.gateway),
            }),
            Budget::Unknown => None,
        }
    }
}

impl InvariantSpec {
    /// The reference stage, its `sessionId`s in `public.sessions`, and the stack's timeouts.
    pub fn reference() -> InvariantSpec {
        InvariantSpec {
            stage: REFERENCE.to_owned(),
            writes: Some(WriteTable::reference()),
            budget: Budget::Stack,
        }
    }
}

impl Default for InvariantSpec {
    fn default() -> Self {
        InvariantSpec::reference()
    }
}

/// A table the judged stage writes one row to per acknowledged request, and how a response
/// names that row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteTable {
    pub schema: String,
    pub table: String,
    /// The top-level JSON field of a 2xx answer holding the new row's id.
    pub id_field: String,
    /// The column holding that id.
    pub id_column: String,
    /// The column holding the owning user's id (`auth.users.id`).
    pub owner_column: String,
}

impl WriteTable {
    /// `public.sessions`: `id`, owned by `user_id`, acknowledged as `sessionId`.
    pub fn reference() -> WriteTable {
        WriteTable {
            schema: "public".to_owned(),
            table: "sessions".to_owned(),
            id_field: REFERENCE_ID_FIELD.to_owned(),
            id_column: "id".to_owned(),
            owner_column: "user_id".to_owned(),
        }
    }

    /// `schema.table` (`table` alone is in `public`), as harness.toml writes it.
    pub fn parse_name(name: &str) -> Result<(String, String), String> {
        let (schema, table) = name.split_once('.').unwrap_or(("public", name));
        if schema.is_empty() || table.is_empty() || table.contains('.') {
            return Err(format!(
                "table `{name}`: expected `schema.table` or `table`, e.g. \"public.sessions\""
            ));
        }
        Ok((schema.to_owned(), table.to_owned()))
    }

    /// `public.sessions`.
    pub fn name(&self) -> String {
        format!("{}.{}", self.schema, self.table)
    }

    /// The ids of every row owned by one of `users`, as text.
    pub(crate) async fn rows(
        &self,
        db: &mut PgConnection,
        users: &[String],
    ) -> Result<Vec<String>, RowsError> {
        let rows = self.owned_rows(db, users).await?;
        Ok(rows.into_iter().map(|(id, _)| id).collect())
    }

    /// The id and the owner of every row owned by one of `users`, as text. The names are
    /// checked against the catalog first (a table or column that is not there is said so, not
    /// sent as SQL), then quoted; the users are a bound parameter.
    pub(crate) async fn owned_rows(
        &self,
        db: &mut PgConnection,
        users: &[String],
    ) -> Result<Vec<(String, String)>, RowsError> {
        let columns: Vec<String> = sqlx::query_scalar(
            "select column_name::text from information_schema.columns \
             where table_schema = $1 and table_name = $2",
        )
        .bind(&self.schema)
        .bind(&self.table)
        .fetch_all(&mut *db)
        .await
        .map_err(RowsError::Database)?;
        if columns.is_empty() {
            return Err(RowsError::Catalog(format!(
                "{} does not exist: name the table the service writes in harness.toml's \
                 [invariants] writes, or remove `writes` there",
                self.name()
            )));
        }
        for column in [&self.id_column, &self.owner_column] {
            if !columns.contains(column) {
                return Err(RowsError::Catalog(format!(
                    "{} has no column `{column}` (it has {}): set id_column and owner_column in \
                     harness.toml's [invariants] writes",
                    self.name(),
                    columns.join(", ")
                )));
            }
        }
        let sql = format!(
            "select {id}::text, {owner}::text from {}.{} where {owner}::text = any($1)",
            quote(&self.schema),
            quote(&self.table),
            id = quote(&self.id_column),
            owner = quote(&self.owner_column),
        );
        sqlx::query_as(&sql)
            .bind(users)
            .fetch_all(&mut *db)
            .await
            .map_err(RowsError::Database)
    }
}

/// Why the rows could not be read.
#[derive(Debug)]
pub(crate) enum RowsError {
    /// The database did not answer (it may still be settling after a fault): worth a retry.
    Database(sqlx::Error),
    /// The table or a column is not there: a retry will not help.
    Catalog(String),
}

impl std::fmt::Display for RowsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RowsError::Database(error) => error.fmt(f),
            RowsError::Catalog(message) => f.write_str(message),
        }
    }
}

/// An SQL identifier, double-quoted (a name the catalog has just confirmed).
fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_name_is_schema_dot_table_or_a_public_table() {
        assert_eq!(
            WriteTable::parse_name("app.sessions").unwrap(),
            ("app".to_owned(), "sessions".to_owned())
        );
        assert_eq!(
            WriteTable::parse_name("sessions").unwrap(),
            ("public".to_owned(), "sessions".to_owned())
        );
        for bad in ["", ".x", "x.", "a.b.c"] {
            assert!(WriteTable::parse_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn identifiers_are_quoted_with_their_quotes_doubled() {
        assert_eq!(quote("user_id"), "\"user_id\"");
        assert_eq!(quote("we\"ird"), "\"we\"\"ird\"");
    }

    #[test]
    fn a_budget_of_each_applies_to_every_dependency() {
        let each = Budget::Each(Duration::from_secs(5)).timeouts(None).unwrap();
        assert_eq!(each.auth, Duration::from_secs(5));
        assert_eq!(each.gateway, Duration::from_secs(5));
        assert_eq!(Budget::Unknown.timeouts(Some(each)), None);
        assert_eq!(Budget::Stack.timeouts(Some(each)), Some(each));
    }
}
