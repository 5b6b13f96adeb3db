//! Toxiproxy's HTTP API over the registry: the same routes, JSON shapes, status codes and
//! `{"error": "...", "status": N}` errors, so existing Toxiproxy clients drive the fault proxy.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::registry::Registry;
use super::{ProxyError, TOXIPROXY_VERSION};
use crate::faults::{ToxicKind, ToxicSpec};

type Shared = State<Arc<Registry>>;
type Answer<T> = Result<T, ProxyError>;

/// Serves the API until `stopping` turns true.
pub(crate) async fn serve(
    listener: TcpListener,
    registry: Arc<Registry>,
    mut stopping: watch::Receiver<bool>,
) {
    let routes = axum::Router::new()
        .route("/version", get(version))
        .route("/reset", post(reset))
        .route("/proxies", get(proxies).post(create_proxy))
        .route(
            "/proxies/{proxy}",
            get(proxy)
                .post(update_proxy)
                .patch(update_proxy)
                .delete(delete_proxy),
        )
        .route("/proxies/{proxy}/toxics", get(toxics).post(create_toxic))
        .route(
            "/proxies/{proxy}/toxics/{toxic}",
            get(toxic)
                .post(update_toxic)
                .patch(update_toxic)
                .delete(delete_toxic),
        )
        .fallback(not_found)
        .with_state(registry);
    let stopped = async move {
        let _ = stopping.wait_for(|down| *down).await;
    };
    if let Err(error) = axum::serve(listener, routes)
        .with_graceful_shutdown(stopped)
        .await
    {
        tracing::error!(%error, "fault proxy API stopped");
    }
}

impl IntoResponse for ProxyError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = json!({ "error": self.to_string(), "status": status.as_u16() });
        (status, Json(body)).into_response()
    }
}

async fn version() -> Json<Value> {
    Json(json!({ "version": TOXIPROXY_VERSION }))
}

async fn reset(State(registry): Shared) -> Answer<StatusCode> {
    registry.reset(None).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn proxies(State(registry): Shared) -> Json<Value> {
    Json(json!(registry.list().await))
}

#[derive(serde::Deserialize)]
struct NewProxy {
    #[serde(default)]
    name: String,
    #[serde(default)]
    listen: String,
    #[serde(default)]
    upstream: String,
    #[serde(default = "enabled_by_default")]
    enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

async fn create_proxy(State(registry): Shared, body: Bytes) -> Answer<(StatusCode, Json<Value>)> {
    let new: NewProxy = parse(&body)?;
    let info = registry
        .create(&new.name, &new.listen, &new.upstream, new.enabled)
        .await?;
    Ok((StatusCode::CREATED, Json(json!(info))))
}

async fn proxy(State(registry): Shared, Path(name): Path<String>) -> Answer<Json<Value>> {
    Ok(Json(json!(registry.get(&name).await?)))
}

#[derive(serde::Deserialize)]
struct ProxyChange {
    listen: Option<String>,
    upstream: Option<String>,
    enabled: Option<bool>,
}

async fn update_proxy(
    State(registry): Shared,
    Path(name): Path<String>,
    body: Bytes,
) -> Answer<Json<Value>> {
    let change: ProxyChange = parse(&body)?;
    let info = registry
        .update(
            &name,
            change.listen.as_deref(),
            change.upstream.as_deref(),
            change.enabled,
        )
        .await?;
    Ok(Json(json!(info)))
}

async fn delete_proxy(State(registry): Shared, Path(name): Path<String>) -> Answer<StatusCode> {
    registry.remove(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn toxics(State(registry): Shared, Path(name): Path<String>) -> Answer<Json<Value>> {
    Ok(Json(json!(registry.get(&name).await?.toxics)))
}

async fn create_toxic(
    State(registry): Shared,
    Path(name): Path<String>,
    body: Bytes,
) -> Answer<Json<Value>> {
    // An unknown proxy is a 404 whatever the body says, as in Toxiproxy.
    registry.get(&name).await?;
    let value: Value = parse(&body)?;
    let kind = value
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if ToxicKind::from_name(kind).is_none() {
        let known: Vec<&str> = ToxicKind::ALL.iter().map(|k| k.name()).collect();
        return Err(ProxyError::BadRequest(format!(
            "invalid toxic type `{kind}` (types: {})",
            known.join(", ")
        )));
    }
    if let Some(stream) = value.get("stream")
        && !matches!(stream.as_str(), Some("upstream" | "downstream"))
    {
        return Err(ProxyError::BadRequest(format!(
            "stream was invalid, can be either upstream or downstream, got {stream}"
        )));
    }
    let spec: ToxicSpec =
        serde_json::from_value(value).map_err(|e| ProxyError::BadRequest(e.to_string()))?;
    Ok(Json(json!(registry.add_toxic(&name, spec).await?)))
}

async fn toxic(
    State(registry): Shared,
    Path((name, toxic)): Path<(String, String)>,
) -> Answer<Json<Value>> {
    Ok(Json(json!(registry.toxic(&name, &toxic).await?)))
}

#[derive(serde::Deserialize)]
struct ToxicChange {
    #[serde(default)]
    attributes: Map<String, Value>,
    toxicity: Option<f32>,
}

async fn update_toxic(
    State(registry): Shared,
    Path((name, toxic)): Path<(String, String)>,
    body: Bytes,
) -> Answer<Json<Value>> {
    let change: ToxicChange = parse(&body)?;
    let spec = registry
        .update_toxic(&name, &toxic, change.attributes, change.toxicity)
        .await?;
    Ok(Json(json!(spec)))
}

async fn delete_toxic(
    State(registry): Shared,
    Path((name, toxic)): Path<(String, String)>,
) -> Answer<StatusCode> {
    registry.remove_toxic(&name, &toxic).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn not_found(method: Method, uri: Uri) -> Response {
    let body = json!({ "error": format!("not found: no route for {method} {uri}"), "status": 404 });
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}

/// Parses a JSON body; an empty body counts as `{}` (Toxiproxy's clients send one for updates).
fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Answer<T> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| ProxyError::BadRequest(e.to_string()))
}
