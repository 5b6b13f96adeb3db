//! PostgREST's in-database configuration: the `pgrst.*` settings of the role the server logs
//! in as (`ALTER ROLE authenticator SET pgrst.jwt_secret = '...'`), a database-specific
//! setting winning over one for all databases.

use sqlx::PgConnection;

const QUERY: &str = r#"
WITH role_setting AS (
  SELECT setdatabase AS database, unnest(setconfig) AS setting
  FROM pg_catalog.pg_db_role_setting
  WHERE setrole = current_user::regrole::oid
    AND setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_catalog))
),
kv AS (
  SELECT database, substr(setting, 1, strpos(setting, '=') - 1) AS k,
         substr(setting, strpos(setting, '=') + 1) AS v
  FROM role_setting
)
SELECT DISTINCT ON (key) replace(k, 'pgrst.', '') AS key, v AS value
FROM kv WHERE k LIKE 'pgrst.%' ORDER BY key, database DESC
"#;

/// The `(name, value)` pairs, names without the `pgrst.` prefix.
pub async fn read(conn: &mut PgConnection) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(QUERY).fetch_all(conn).await
}
