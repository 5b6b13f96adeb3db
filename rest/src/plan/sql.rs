//! SQL text with bound parameters. Text only ever grows from the planner's fixed fragments
//! and from identifiers the schema cache holds, quoted with [`ident`]; every value a request
//! carries goes through [`Sql::bind`] and reaches PostgreSQL as a parameter.

use crate::error::ApiError;

/// One bound value. Text is cast in SQL to the column's cached type, so PostgreSQL parses it
/// with that type's input function and its own error texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    Text(String),
    TextArray(Vec<String>),
    Int(i64),
}

/// A statement being built.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sql {
    pub text: String,
    pub params: Vec<Param>,
}

/// `"name"` with inner quotes doubled: PostgreSQL's quoted identifier.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `"schema"."name"`.
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", ident(schema), ident(name))
}

impl Sql {
    /// Appends fixed text.
    pub fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    /// Binds a value and returns its placeholder (`$n`). A NUL byte is refused here, with
    /// the error PostgreSQL gives for one, before it can reach the server.
    pub fn bind(&mut self, param: Param, authenticated: bool) -> Result<String, ApiError> {
        let has_nul = match &param {
            Param::Text(s) => s.contains('\0'),
            Param::TextArray(items) => items.iter().any(|s| s.contains('\0')),
            Param::Int(_) => false,
        };
        if has_nul {
            return Err(ApiError::nul_byte(authenticated));
        }
        self.params.push(param);
        Ok(format!("${}", self.params.len()))
    }

    /// Binds text cast to `data_type` (a `format_type` name from the schema cache).
    pub fn bind_as(
        &mut self,
        value: &str,
        data_type: &str,
        authenticated: bool,
    ) -> Result<String, ApiError> {
        let p = self.bind(Param::Text(value.to_owned()), authenticated)?;
        Ok(format!("{p}::{data_type}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_and_values_bound() {
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(qualified("public", "t"), "\"public\".\"t\"");
        let mut sql = Sql::default();
        let p = sql.bind_as("x'; drop table t; --", "uuid", true).unwrap();
        assert_eq!(p, "$1::uuid");
        assert_eq!(sql.params, [Param::Text("x'; drop table t; --".into())]);
        let err = sql.bind(Param::Text("a\0b".into()), false).unwrap_err();
        assert_eq!(err.code(), "22021");
        assert_eq!(err.status(), 400);
    }
}
