//! The request handler: every step of serving one request, each failure an [`ApiError`].

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use serde_json::{Map, Value};

use crate::auth::{self, AuthResult};
use crate::config::Config;
use crate::error::ApiError;
use crate::plan::payload::Payload;
use crate::plan::rpc::{RpcArgs, RpcRequest};
use crate::plan::write::{WriteAction, WriteRequest};
use crate::plan::{self, Plan, read::ReadRequest};
use crate::query::{self, ast};
use crate::state::AppState;
use crate::transaction::{self, TxEnd, TxSettings};

use super::BODY_LIMIT;
use super::meta::{options, root};
use super::preference_applied::preference_applied;
use super::request::{self, BodyType, Resource};
use super::response::{Respond, respond};

/// Serves one request; every failure is PostgREST's error response.
pub async fn handle(State(state): State<Arc<AppState>>, req: Request) -> Response {
    match serve(&state, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

async fn serve(state: &Arc<AppState>, req: Request) -> Result<Response, ApiError> {
    let config = state.config();
    let (parts, body) = req.into_parts();
    // Auth runs before routing, as PostgREST's middleware does.
    let auth = auth::authenticate(&parts.headers, &config, now())?;
    let authenticated = auth.authenticated(&config);
    let resource = request::resource(parts.uri.path())?;
    let method = parts.method.clone();
    check_method(&resource, &method)?;
    let cache = state.schema()?;
    let schema = request::schema(&method, &parts.headers, &config.db_schemas)?;
    let mut extra: Vec<(&'static str, String)> = Vec::new();
    if config.db_schemas.len() > 1 {
        extra.push(("Content-Profile", schema.clone()));
    }
    if method == Method::OPTIONS {
        return options(&cache, &schema, &resource);
    }
    let name = match &resource {
        Resource::Root => return root(&config, &cache, &schema, &method),
        Resource::Relation(n) | Resource::Rpc(n) => n.clone(),
    };

    let media = negotiate(
        parts
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok()),
    )?;
    let target = match (&resource, &method) {
        (Resource::Rpc(_), &Method::GET | &Method::HEAD) => ast::Target::RpcRead,
        (Resource::Rpc(_), _) => ast::Target::RpcWrite,
        _ => ast::Target::Relation,
    };
    let query = query::parse_query(parts.uri.query().unwrap_or(""), target)?;
    let prefs = query::parse_preferences_with_timezones(
        request::all_values(&parts.headers, "prefer"),
        |tz| cache.timezones.contains(tz),
    )?;
    let range = match (
        &method,
        parts
            .headers
            .get(header::RANGE)
            .and_then(|v| v.to_str().ok()),
    ) {
        (&Method::GET, Some(v)) => query::parse_range(v)?,
        _ => None,
    };
    let strict = prefs.handling == Some(ast::Handling::Strict);
    let max_affected = prefs.max_affected.filter(|_| strict);
    let head = method == Method::HEAD;

    let bytes = if matches!(method, Method::POST | Method::PATCH | Method::PUT) {
        let (kind, ct) = request::body_type(&parts.headers);
        let bytes = read_body(body, state.body_timeout).await?;
        if kind != BodyType::Json {
            return Err(ApiError::InvalidBody(format!(
                "Content-Type not acceptable: {ct}"
            )));
        }
        Some(bytes)
    } else {
        None
    };

    let returning = prefs.returning.unwrap_or(ast::Returning::Minimal);
    let plan: Plan = match &resource {
        Resource::Relation(_) => {
            let table = cache
                .table(&schema, &name)
                .ok_or_else(|| ApiError::TableNotFound {
                    schema: schema.clone(),
                    table: name.clone(),
                    suggestion: cache.similar_table(&schema, &name),
                })?;
            if matches!(method, Method::GET | Method::HEAD) {
                plan::read::plan(ReadRequest {
                    cache: &cache,
                    schema: &schema,
                    table,
                    query: &query,
                    range,
                    count: prefs.count,
                    media,
                    max_rows: config.db_max_rows,
                    authenticated,
                })?
            } else {
                let action = match method {
                    Method::POST => WriteAction::Insert,
                    Method::PATCH => WriteAction::Update,
                    Method::PUT => WriteAction::Put,
                    _ => WriteAction::Delete,
                };
                let payload = match &bytes {
                    Some(b) => Some(Payload::parse(b)?),
                    None => None,
                };
                plan::write::plan(WriteRequest {
                    cache: &cache,
                    schema: &schema,
                    table,
                    query: &query,
                    action,
                    payload,
                    returning,
                    resolution: prefs.resolution,
                    missing: prefs.missing,
                    count: prefs.count,
                    media,
                    authenticated,
                })?
            }
        }
        Resource::Rpc(_) => {
            let get = matches!(method, Method::GET | Method::HEAD);
            let (args, raw_body) = rpc_args(&query, bytes.as_deref(), get)?;
            if max_affected.is_some() && !plan::rpc::returns_set(&cache, &schema, &name) {
                return Err(ApiError::MaxAffectedRpc);
            }
            plan::rpc::plan(RpcRequest {
                cache: &cache,
                schema: &schema,
                name: &name,
                query: &query,
                args: RpcArgs::Named(args),
                json_post: !get,
                raw_body,
                get,
                range,
                count: prefs.count,
                media,
                max_rows: config.db_max_rows,
                authenticated,
            })?
        }
        Resource::Root => unreachable!("answered above"),
    };

    let tx_rollback = match (config.db_tx_end.allow_override, prefs.tx) {
        (true, Some(ast::Tx::Rollback)) => true,
        (true, Some(ast::Tx::Commit)) => false,
        _ => config.db_tx_end.rollback,
    };
    extra.extend(preference_applied(&prefs, &plan, &config, max_affected));
    let content_location = (matches!(method, Method::GET | Method::HEAD)
        && matches!(resource, Resource::Relation(_)))
    .then(|| {
        if query.canonical.is_empty() {
            format!("/{name}")
        } else {
            format!("/{name}?{}", query.canonical)
        }
    });
    let mut settings = tx_settings(
        &config,
        &auth,
        &schema,
        &parts.headers,
        &method,
        parts.uri.path(),
        &prefs,
    )?;
    settings.role_settings = cache
        .role_settings
        .get(&auth.role)
        .cloned()
        .unwrap_or_default();
    let end = TxEnd {
        rollback: tx_rollback,
        singular: matches!(media, ast::MediaType::SingleObject { .. }),
        max_affected,
    };
    let counted = prefs.count.is_some();
    let outcome = transaction::run(
        state.pool.clone(),
        plan.clone(),
        settings,
        end,
        authenticated,
    )
    .await?;
    respond(
        Respond {
            plan: &plan,
            head,
            returning,
            counted,
            content_location,
            extra,
        },
        outcome,
    )
}

/// PGRST117 / PGRST101 for methods the resource does not take.
fn check_method(resource: &Resource, method: &Method) -> Result<(), ApiError> {
    let ok = match resource {
        Resource::Root => matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS),
        Resource::Relation(_) => matches!(
            *method,
            Method::GET
                | Method::HEAD
                | Method::POST
                | Method::PUT
                | Method::PATCH
                | Method::DELETE
                | Method::OPTIONS
        ),
        Resource::Rpc(_) => {
            if matches!(*method, Method::PUT | Method::PATCH | Method::DELETE) {
                return Err(ApiError::InvalidRpcMethod(method.to_string()));
            }
            matches!(
                *method,
                Method::GET | Method::HEAD | Method::POST | Method::OPTIONS
            )
        }
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMethod(method.to_string()))
    }
}

/// The first acceptable media type this server produces (PGRST107 when none).
fn negotiate(accept: Option<&str>) -> Result<ast::MediaType, ApiError> {
    let types = query::parse_accept(accept)?;
    types
        .iter()
        .copied()
        .find(|m| {
            matches!(
                m,
                ast::MediaType::Json
                    | ast::MediaType::SingleObject { .. }
                    | ast::MediaType::Array { .. }
                    | ast::MediaType::Csv
            )
        })
        .ok_or_else(|| ApiError::NoAcceptableMedia {
            asked: query::accepted_media_names(accept),
        })
}

/// The whole body, within [`BODY_LIMIT`] and `within` (a body that trickles in or never
/// ends would hold a connection and this task forever).
async fn read_body(body: Body, within: std::time::Duration) -> Result<Vec<u8>, ApiError> {
    let limited = http_body_util::Limited::new(body, BODY_LIMIT);
    let Ok(collected) = tokio::time::timeout(within, limited.collect()).await else {
        return Err(ApiError::BodyTimeout { within });
    };
    match collected {
        Ok(c) => Ok(c.to_bytes().to_vec()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(ApiError::PayloadTooLarge { limit: BODY_LIMIT })
        }
        Err(e) => Err(ApiError::InvalidBody(format!(
            "The request body could not be read: {e}"
        ))),
    }
}

/// The named arguments of a call, from the query (GET; a repeated key is an array, for
/// variadic functions) or the body (POST; empty means none).
fn rpc_args(
    query: &ast::QueryParams,
    body: Option<&[u8]>,
    get: bool,
) -> Result<(Map<String, Value>, Option<Value>), ApiError> {
    if get {
        let mut args = Map::new();
        for (k, v) in &query.rpc_args {
            match args.get_mut(k) {
                Some(Value::Array(items)) => items.push(Value::String(v.clone())),
                Some(existing) => {
                    let first = existing.take();
                    *existing = Value::Array(vec![first, Value::String(v.clone())]);
                }
                None => {
                    args.insert(k.clone(), Value::String(v.clone()));
                }
            }
        }
        return Ok((args, None));
    }
    let body = body.unwrap_or_default();
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok((Map::new(), None));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| ApiError::InvalidBody("Empty or invalid json".into()))?;
    match &value {
        Value::Object(o) => Ok((o.clone(), Some(value))),
        _ => Ok((Map::new(), Some(value))),
    }
}

/// The transaction settings of this request.
fn tx_settings(
    config: &Config,
    auth: &AuthResult,
    schema: &str,
    headers: &HeaderMap,
    method: &Method,
    path: &str,
    prefs: &ast::Preferences,
) -> Result<TxSettings, ApiError> {
    let mut search_path = vec![crate::plan::sql::ident(schema)];
    search_path.extend(
        config
            .db_extra_search_path
            .iter()
            .map(|s| crate::plan::sql::ident(s)),
    );
    Ok(TxSettings {
        search_path: search_path.join(", "),
        role: auth.role.clone(),
        claims: Value::Object(auth.claims.clone()).to_string(),
        method: method.to_string(),
        path: path.to_owned(),
        headers: request::headers_json(headers),
        cookies: request::cookies_json(headers),
        timezone: prefs.timezone.clone(),
        app_settings: config.app_settings.clone(),
        role_settings: Vec::new(),
    })
}
