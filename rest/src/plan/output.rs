//! The statement's last part: the one result row every plan shares (see [`super`]), with the
//! body rendered by PostgreSQL in the negotiated media type.

use crate::query::ast::MediaType;

use super::sql::Sql;

/// What the rows of the body relation are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyShape {
    /// Rows as objects: an array, or one object for the singular media type.
    Rows,
    /// A function returning one row: the object itself.
    SingleRow,
    /// A function returning one scalar (column `pgrst_scalar`): the value itself.
    SingleScalar,
    /// A function returning a set of scalars: an array of values.
    ScalarSet,
    /// No body (return=minimal, void functions).
    None,
}

fn rows_json(rel: &str, media: MediaType, shape: BodyShape) -> String {
    let strip = matches!(
        media,
        MediaType::SingleObject { strip_nulls: true } | MediaType::Array { strip_nulls: true }
    );
    let single = matches!(media, MediaType::SingleObject { .. })
        || matches!(shape, BodyShape::SingleRow | BodyShape::SingleScalar);
    let agg = match shape {
        BodyShape::SingleScalar | BodyShape::ScalarSet => format!("json_agg({rel}.pgrst_scalar)"),
        _ => format!("json_agg({rel})"),
    };
    let agg = if strip {
        format!("json_strip_nulls({agg})")
    } else {
        agg
    };
    if single {
        format!("coalesce(({agg})->0, 'null'::json)::text")
    } else {
        format!("coalesce({agg}, '[]'::json)::text")
    }
}

/// PostgREST's CSV: a header of the first row's keys, then each row's record text.
fn rows_csv(rel: &str) -> String {
    format!(
        "coalesce((SELECT string_agg(k, ',') FROM (SELECT json_object_keys(row_to_json(h)) AS k \
         FROM (SELECT * FROM {rel} LIMIT 1) h) keys), '') || chr(10) || \
         coalesce(string_agg(substring({rel}::text, 2, length({rel}::text) - 2), chr(10)), '')"
    )
}

/// The parts of the final `SELECT`.
pub struct Finish<'a> {
    /// `name AS (...)` items of the `WITH`.
    pub ctes: Vec<String>,
    /// The relation whose rows count as affected/read.
    pub count_from: &'a str,
    /// The relation rendered as the body.
    pub body_from: &'a str,
    pub shape: BodyShape,
    pub media: MediaType,
    pub total: Option<String>,
    pub inserted: Option<String>,
    pub locations: Option<String>,
}

/// Appends the final statement to `sql`.
pub fn finish(sql: &mut Sql, f: Finish) {
    let body = match (f.shape, f.media) {
        (BodyShape::None, _) => "NULL::text".to_owned(),
        (BodyShape::Rows, MediaType::Csv) => {
            format!("(SELECT {} FROM {})", rows_csv(f.body_from), f.body_from)
        }
        (shape, media) => format!(
            "(SELECT {} FROM {})",
            rows_json(f.body_from, media, shape),
            f.body_from
        ),
    };
    // The response settings come last, read after the CTEs ran (as PostgREST reads them).
    let text = format!(
        "WITH {} SELECT {}::bigint AS total, (SELECT count(*) FROM {})::bigint AS page_count, \
         {body} AS body, {}::bigint AS inserted, {}::text AS locations, \
         nullif(current_setting('response.headers', true), '') AS response_headers, \
         nullif(current_setting('response.status', true), '') AS response_status",
        f.ctes.join(", "),
        f.total.unwrap_or_else(|| "NULL".into()),
        f.count_from,
        f.inserted.unwrap_or_else(|| "NULL".into()),
        f.locations.unwrap_or_else(|| "NULL".into()),
    );
    sql.push(&text);
}
