//! Reads the schema cache from the catalog, as the authenticator, in one read-only
//! transaction. Each query aggregates to JSON so its rows deserialize straight into the
//! cache's types.

use std::collections::HashMap;

use serde::Deserialize;
use sqlx::PgConnection;

use super::views::{self, ViewColumn};
use super::{ForeignKey, Function, FunctionArg, Param, Returns, SchemaCache, Table};

const TABLES: &str = r#"
SELECT coalesce(json_agg(t), '[]')::text FROM (
  SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS kind,
    (c.relkind IN ('r', 'p') OR (c.relkind IN ('v', 'f')
      AND (pg_relation_is_updatable(c.oid::regclass, TRUE) & 8) = 8)) AS insertable,
    (c.relkind IN ('r', 'p') OR (c.relkind IN ('v', 'f')
      AND (pg_relation_is_updatable(c.oid::regclass, TRUE) & 4) = 4)) AS updatable,
    (c.relkind IN ('r', 'p') OR (c.relkind IN ('v', 'f')
      AND (pg_relation_is_updatable(c.oid::regclass, TRUE) & 16) = 16)) AS deletable,
    coalesce((
      SELECT json_agg(json_build_object(
          'name', a.attname,
          'type', format_type(a.atttypid, a.atttypmod),
          'cast_type', format_type(a.atttypid, NULL),
          'nullable', NOT a.attnotnull,
          'default', pg_get_expr(d.adbin, d.adrelid),
          'generated', a.attgenerated <> '',
          'position', a.attnum,
          'category', ty.typcategory::text) ORDER BY a.attnum)
      FROM pg_attribute a
      JOIN pg_type ty ON ty.oid = a.atttypid
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '[]') AS columns,
    coalesce((
      SELECT json_agg(json_build_object(
          'kind', con.contype::text,
          'name', con.conname,
          'columns', (SELECT json_agg(a.attname ORDER BY k.ord)
                      FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
                      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num)))
      FROM pg_constraint con
      WHERE con.conrelid = c.oid AND con.contype IN ('p', 'u')), '[]') AS keys
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p') AND n.nspname = ANY($1)
) t
"#;

const FOREIGN_KEYS: &str = r#"
SELECT coalesce(json_agg(f), '[]')::text FROM (
  SELECT con.conname AS name, n1.nspname AS schema, c1.relname AS table,
    n2.nspname AS ref_schema, c2.relname AS ref_table,
    (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
     JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num) AS columns,
    (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY k(num, ord)
     JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num) AS ref_columns
  FROM pg_constraint con
  JOIN pg_class c1 ON c1.oid = con.conrelid JOIN pg_namespace n1 ON n1.oid = c1.relnamespace
  JOIN pg_class c2 ON c2.oid = con.confrelid JOIN pg_namespace n2 ON n2.oid = c2.relnamespace
  WHERE con.contype = 'f'
) f
"#;

/// Which table columns each view of the exposed schemas reads (from its rewrite rule's
/// dependencies), to carry foreign keys over to views.
const VIEW_COLUMNS: &str = r#"
SELECT coalesce(json_agg(u), '[]')::text FROM (
  SELECT DISTINCT vn.nspname AS view_schema, v.relname AS view,
    tn.nspname AS table_schema, t.relname AS table, a.attname AS column
  FROM pg_rewrite r
  JOIN pg_class v ON v.oid = r.ev_class AND v.relkind IN ('v', 'm')
  JOIN pg_namespace vn ON vn.oid = v.relnamespace
  JOIN pg_depend d ON d.objid = r.oid AND d.classid = 'pg_rewrite'::regclass
    AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0
  JOIN pg_class t ON t.oid = d.refobjid AND t.oid <> v.oid
  JOIN pg_namespace tn ON tn.oid = t.relnamespace
  JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
  WHERE vn.nspname = ANY($1)
) u
"#;

const FUNCTIONS: &str = r#"
SELECT coalesce(json_agg(f), '[]')::text FROM (
  SELECT n.nspname AS schema, p.proname AS name, p.provolatile::text AS volatility,
    p.proretset AS returns_set, format_type(p.prorettype, NULL) AS return_type,
    rt.typrelid <> 0 AS returns_composite, p.pronargdefaults AS n_defaults,
    rtn.nspname AS return_schema, rt.typname AS return_name,
    p.provariadic <> 0 AS variadic,
    coalesce((SELECT json_agg(json_build_object(
        'name', coalesce(p.proargnames[i], ''),
        'type', format_type(coalesce(p.proallargtypes[i], p.proargtypes[i - 1]), NULL),
        'mode', coalesce(p.proargmodes[i]::text, 'i')) ORDER BY i)
      FROM generate_series(1, coalesce(array_length(p.proallargtypes, 1), p.pronargs)) i), '[]') AS args,
    CASE WHEN rt.typrelid <> 0 THEN (
      SELECT json_agg(json_build_array(a.attname, format_type(a.atttypid, a.atttypmod)) ORDER BY a.attnum)
      FROM pg_attribute a WHERE a.attrelid = rt.typrelid AND a.attnum > 0 AND NOT a.attisdropped)
    END AS return_columns
  FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_type rt ON rt.oid = p.prorettype
  JOIN pg_namespace rtn ON rtn.oid = rt.typnamespace
  WHERE n.nspname = ANY($1) AND p.prokind = 'f'
) f
"#;

const TYPES: &str = "SELECT coalesce(json_agg(DISTINCT typname), '[]')::text FROM pg_type";

/// PostgREST's default `db-hoisted-tx-settings`, those of them a transaction can take.
const ROLE_SETTINGS: &str = r#"
SELECT coalesce(json_agg(json_build_array(rolname, key, value)), '[]')::text FROM (
  SELECT DISTINCT ON (r.rolname, kv.key) r.rolname, kv.key, kv.value
  FROM pg_db_role_setting s
  JOIN pg_roles r ON r.oid = s.setrole
  CROSS JOIN LATERAL (
    SELECT split_part(c, '=', 1) AS key, substr(c, strpos(c, '=') + 1) AS value
    FROM unnest(s.setconfig) c) kv
  WHERE s.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_catalog))
    AND kv.key IN ('statement_timeout', 'plan_filter.statement_cost_limit')
  ORDER BY r.rolname, kv.key, s.setdatabase DESC
) t
"#;

const TIMEZONES: &str = "SELECT coalesce(json_agg(name), '[]')::text FROM pg_timezone_names";

#[derive(Deserialize)]
struct RawFunction {
    schema: String,
    name: String,
    volatility: String,
    returns_set: bool,
    return_type: String,
    returns_composite: bool,
    n_defaults: i16,
    return_schema: String,
    return_name: String,
    variadic: bool,
    args: Vec<FunctionArg>,
    return_columns: Option<Vec<(String, String)>>,
}

/// Every schema of `schemas` (and of the extra search path) must exist: PostgREST 13 fails
/// the schema cache load otherwise (so requests get PGRST002, never a silent empty API).
pub async fn check_schemas(conn: &mut PgConnection, names: &[String]) -> Result<(), String> {
    let found: Vec<String> =
        sqlx::query_scalar("SELECT nspname::text FROM pg_namespace WHERE nspname = ANY($1)")
            .bind(names)
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| e.to_string())?;
    let missing: Vec<&str> = names
        .iter()
        .filter(|n| !found.contains(n))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "schema {} of PGRST_DB_SCHEMAS / PGRST_DB_EXTRA_SEARCH_PATH does not exist",
            missing.join(", ")
        ))
    }
}

/// Reads the cache for `schemas` over `conn`.
pub async fn load(conn: &mut PgConnection, schemas: &[String]) -> Result<SchemaCache, sqlx::Error> {
    let json = |text: String| -> Result<serde_json::Value, sqlx::Error> {
        serde_json::from_str(&text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
    };
    sqlx::query("BEGIN READ ONLY").execute(&mut *conn).await?;
    let result = read_all(conn, schemas).await;
    let _ = sqlx::query("COMMIT").execute(&mut *conn).await;
    let (tables, fks, functions, types, timezones, role_rows, view_columns) = result?;
    let decode = |e: serde_json::Error| sqlx::Error::Decode(Box::new(e));
    let tables: Vec<Table> = serde_json::from_value(json(tables)?).map_err(decode)?;
    let foreign_keys: Vec<ForeignKey> = serde_json::from_value(json(fks)?).map_err(decode)?;
    let view_columns: Vec<ViewColumn> =
        serde_json::from_value(json(view_columns)?).map_err(decode)?;
    let functions: Vec<RawFunction> = serde_json::from_value(json(functions)?).map_err(decode)?;
    let type_names: Vec<String> = serde_json::from_value(json(types)?).map_err(decode)?;
    let timezones: Vec<String> = serde_json::from_value(json(timezones)?).map_err(decode)?;
    let role_rows: Vec<(String, String, String)> =
        serde_json::from_value(json(role_rows)?).map_err(decode)?;
    let mut role_settings: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for (role, key, value) in role_rows {
        role_settings.entry(role).or_default().push((key, value));
    }

    let mut by_name: HashMap<(String, String), Vec<Function>> = HashMap::new();
    for raw in functions {
        let f = function(raw);
        by_name
            .entry((f.schema.clone(), f.name.clone()))
            .or_default()
            .push(f);
    }
    let tables: HashMap<(String, String), Table> = tables
        .into_iter()
        .map(|t| ((t.schema.clone(), t.name.clone()), t))
        .collect();
    let mut foreign_keys = foreign_keys;
    foreign_keys.extend(views::foreign_keys(&foreign_keys, &view_columns, &tables));
    // Only relationships between exposed relations can be embedded.
    foreign_keys.retain(|fk| {
        tables.contains_key(&(fk.schema.clone(), fk.table.clone()))
            && tables.contains_key(&(fk.ref_schema.clone(), fk.ref_table.clone()))
    });
    Ok(SchemaCache {
        tables,
        foreign_keys,
        functions: by_name,
        type_names: type_names.into_iter().collect(),
        timezones: timezones.into_iter().collect(),
        role_settings,
    })
}

/// The catalog queries' JSON texts, in query order.
type Raw = (String, String, String, String, String, String, String);

async fn read_all(conn: &mut PgConnection, schemas: &[String]) -> Result<Raw, sqlx::Error> {
    let tables: String = sqlx::query_scalar(TABLES)
        .bind(schemas)
        .fetch_one(&mut *conn)
        .await?;
    let fks: String = sqlx::query_scalar(FOREIGN_KEYS)
        .fetch_one(&mut *conn)
        .await?;
    let functions: String = sqlx::query_scalar(FUNCTIONS)
        .bind(schemas)
        .fetch_one(&mut *conn)
        .await?;
    let types: String = sqlx::query_scalar(TYPES).fetch_one(&mut *conn).await?;
    let timezones: String = sqlx::query_scalar(TIMEZONES).fetch_one(&mut *conn).await?;
    let roles: String = sqlx::query_scalar(ROLE_SETTINGS)
        .fetch_one(&mut *conn)
        .await?;
    let views: String = sqlx::query_scalar(VIEW_COLUMNS)
        .bind(schemas)
        .fetch_one(&mut *conn)
        .await?;
    Ok((tables, fks, functions, types, timezones, roles, views))
}

fn function(raw: RawFunction) -> Function {
    let inputs: Vec<&FunctionArg> = raw
        .args
        .iter()
        .filter(|a| matches!(a.mode.as_str(), "i" | "b" | "v"))
        .collect();
    let first_default = inputs.len().saturating_sub(raw.n_defaults.max(0) as usize);
    let params = inputs
        .iter()
        .enumerate()
        .map(|(i, a)| Param {
            name: a.name.clone(),
            data_type: a.data_type.clone(),
            has_default: i >= first_default,
            variadic: a.mode == "v",
        })
        .collect();
    let outs: Vec<(String, String)> = raw
        .args
        .iter()
        .filter(|a| matches!(a.mode.as_str(), "o" | "b" | "t"))
        .map(|a| (a.name.clone(), a.data_type.clone()))
        .collect();
    let returns = if raw.return_type == "void" {
        Returns::Void
    } else if raw.returns_composite {
        Returns::Composite {
            columns: raw.return_columns.unwrap_or_default(),
            relation: Some((raw.return_schema, raw.return_name)),
        }
    } else if raw.return_type == "record" && !outs.is_empty() {
        Returns::Composite {
            columns: outs,
            relation: None,
        }
    } else {
        Returns::Scalar {
            data_type: raw.return_type,
        }
    };
    Function {
        schema: raw.schema,
        name: raw.name,
        params,
        returns,
        returns_set: raw.returns_set,
        volatility: raw.volatility.chars().next().unwrap_or('v'),
        variadic: raw.variadic,
    }
}
