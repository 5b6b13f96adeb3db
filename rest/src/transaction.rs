//! One request, one transaction (contract §1.4): `BEGIN` (READ ONLY for reads and stable
//! functions), one statement setting the request's settings with `set_config(..., true)`,
//! the planned statement (which also reads back the `response.*` settings), then `COMMIT`
//! or `ROLLBACK`.
//!
//! It runs in a task of its own, so a client that goes away cannot leave a connection
//! half-way through a transaction; a connection is only reused after a clean end.

use serde_json::Value;
use sqlx::Row;

use crate::db::pool::Pool;
use crate::db::{is_connection_error, query_error};
use crate::error::ApiError;
use crate::plan::sql::{Param, Sql};
use crate::plan::{CountPlan, Plan};

/// The transaction-scoped settings of one request.
#[derive(Debug, Clone)]
pub struct TxSettings {
    pub search_path: String,
    pub role: String,
    pub claims: String,
    pub method: String,
    pub path: String,
    pub headers: String,
    pub cookies: String,
    pub timezone: Option<String>,
    /// `app.settings.*` from the configuration.
    pub app_settings: Vec<(String, String)>,
    /// The role's own settings (`statement_timeout`...), applied before the role.
    pub role_settings: Vec<(String, String)>,
}

/// How the transaction must end, and the checks that turn a success into a rollback.
#[derive(Debug, Clone, Copy)]
pub struct TxEnd {
    pub rollback: bool,
    /// `Accept: application/vnd.pgrst.object+json`: exactly one row, else PGRST116.
    pub singular: bool,
    /// `Prefer: max-affected=n` with `handling=strict`.
    pub max_affected: Option<i64>,
}

/// What the statement produced.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub total: Option<i64>,
    pub page_count: i64,
    pub body: Option<String>,
    pub inserted: Option<i64>,
    pub locations: Option<String>,
    pub guc_headers: Option<String>,
    pub guc_status: Option<String>,
}

fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    params: &'q [Param],
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    for p in params {
        q = match p {
            Param::Text(s) => q.bind(s.as_str()),
            Param::TextArray(items) => q.bind(items.as_slice()),
            Param::Int(i) => q.bind(*i),
        };
    }
    q
}

/// Runs `plan` as one transaction.
pub async fn run(
    pool: Pool,
    plan: Plan,
    settings: TxSettings,
    end: TxEnd,
    authenticated: bool,
) -> Result<Outcome, ApiError> {
    let task = tokio::spawn(async move {
        let mut conn = pool.acquire().await?;
        let result = body(&mut conn, &plan, &settings, end, authenticated).await;
        let conn_ref: &mut sqlx::PgConnection = &mut conn;
        match result {
            Ok((outcome, commit)) => {
                let finish = if commit { "COMMIT" } else { "ROLLBACK" };
                sqlx::query(finish)
                    .execute(&mut *conn_ref)
                    .await
                    .map_err(|e| query_error(e, authenticated))
                    .inspect_err(|e| {
                        if is_connection_error(e) {
                            pool.clear_idle();
                        }
                    })?;
                pool.release(conn);
                Ok(outcome)
            }
            Err(e) => {
                if is_connection_error(&e) {
                    pool.clear_idle();
                } else if sqlx::query("ROLLBACK")
                    .execute(&mut *conn_ref)
                    .await
                    .is_ok()
                {
                    pool.release(conn);
                }
                Err(e)
            }
        }
    });
    task.await.unwrap_or_else(|e| {
        Err(ApiError::DbClient(format!(
            "the request's task failed: {e}"
        )))
    })
}

async fn body(
    conn: &mut sqlx::PgConnection,
    plan: &Plan,
    s: &TxSettings,
    end: TxEnd,
    authenticated: bool,
) -> Result<(Outcome, bool), ApiError> {
    let err = |e| query_error(e, authenticated);
    let begin = if plan.read_only {
        "BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY"
    } else {
        "BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE"
    };
    sqlx::query(begin).execute(&mut *conn).await.map_err(err)?;

    let mut set = Sql::default();
    let mut calls = Vec::new();
    let mut pairs: Vec<(String, String)> = vec![("search_path".into(), s.search_path.clone())];
    pairs.extend(s.role_settings.iter().cloned());
    pairs.extend([
        ("role".into(), s.role.clone()),
        ("request.jwt.claims".into(), s.claims.clone()),
        ("request.method".into(), s.method.clone()),
        ("request.path".into(), s.path.clone()),
        ("request.headers".into(), s.headers.clone()),
        ("request.cookies".into(), s.cookies.clone()),
    ]);
    if let Some(tz) = &s.timezone {
        pairs.push(("timezone".into(), tz.clone()));
    }
    for (k, v) in &s.app_settings {
        pairs.push((format!("app.settings.{k}"), v.clone()));
    }
    for (k, v) in pairs {
        let name = set.bind(Param::Text(k), authenticated)?;
        let value = set.bind(Param::Text(v), authenticated)?;
        calls.push(format!("set_config({name}, {value}, true)"));
    }
    set.push(&format!("SELECT {}", calls.join(", ")));
    bind_all(sqlx::query(&set.text), &set.params)
        .execute(&mut *conn)
        .await
        .map_err(err)?;

    let planned = match &plan.count {
        Some(CountPlan::Planned(explain)) | Some(CountPlan::Estimated { explain, .. }) => {
            let text: Value = bind_all(sqlx::query(&explain.text), &explain.params)
                .fetch_one(&mut *conn)
                .await
                .map_err(err)?
                .try_get(0)
                .map_err(err)?;
            text.pointer("/0/Plan/Plan Rows")
                .and_then(Value::as_f64)
                .map(|n| n as i64)
        }
        _ => None,
    };

    let row = bind_all(sqlx::query(&plan.sql.text), &plan.sql.params)
        .fetch_one(&mut *conn)
        .await
        .map_err(err)?;
    let mut outcome = Outcome {
        total: row.try_get("total").map_err(err)?,
        page_count: row.try_get("page_count").map_err(err)?,
        body: row.try_get("body").map_err(err)?,
        inserted: row.try_get("inserted").map_err(err)?,
        locations: row.try_get("locations").map_err(err)?,
        guc_headers: row.try_get("response_headers").map_err(err)?,
        guc_status: row.try_get("response_status").map_err(err)?,
    };
    match &plan.count {
        Some(CountPlan::Planned(_)) => outcome.total = planned,
        Some(CountPlan::Estimated { max_rows, .. })
            if outcome.total.is_some_and(|t| t > *max_rows as i64) =>
        {
            outcome.total = planned.map(|p| p.max(*max_rows as i64 + 1));
        }
        _ => {}
    }

    if end.singular && outcome.page_count != 1 {
        return Err(ApiError::Singular {
            rows: outcome.page_count,
        });
    }
    if let Some(max) = end.max_affected
        && outcome.page_count > max
    {
        return Err(ApiError::MaxAffected {
            rows: outcome.page_count,
        });
    }
    Ok((outcome, !end.rollback))
}
