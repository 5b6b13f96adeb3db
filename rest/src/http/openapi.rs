//! `GET /`: a minimal OpenAPI 2.0 document of the exposed schema's tables, views and
//! functions. It lists paths, each relation's columns with their PostgreSQL types, and the
//! function names; it lacks PostgREST's parameter definitions, descriptions from comments,
//! privilege filtering (`openapi-mode=follow-privileges` shows everything here) and
//! `securityDefinitions`.

use serde_json::{Map, Value, json};

use crate::schema::SchemaCache;

/// The document for `schema`.
pub fn document(cache: &SchemaCache, schema: &str, version: &str) -> Value {
    let mut paths = Map::new();
    let mut definitions = Map::new();
    paths.insert("/".into(), json!({"get": {"summary": "OpenAPI description (this document)", "responses": {"200": {"description": "OK"}}}}));
    let mut tables: Vec<_> = cache
        .tables
        .values()
        .filter(|t| t.schema == schema)
        .collect();
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    for t in tables {
        let ok = json!({"200": {"description": "OK"}});
        let mut ops = Map::new();
        ops.insert("get".into(), json!({"tags": [t.name], "responses": ok}));
        if t.kind != "m" {
            for m in ["post", "patch", "delete"] {
                ops.insert(m.into(), json!({"tags": [t.name], "responses": ok}));
            }
        }
        paths.insert(format!("/{}", t.name), Value::Object(ops));
        let properties: Map<String, Value> = t
            .columns
            .iter()
            .map(|c| (c.name.clone(), json!({"format": c.data_type})))
            .collect();
        let required: Vec<&str> = t
            .columns
            .iter()
            .filter(|c| !c.nullable && c.default.is_none())
            .map(|c| c.name.as_str())
            .collect();
        definitions.insert(
            t.name.clone(),
            json!({"type": "object", "properties": properties, "required": required}),
        );
    }
    let mut functions: Vec<_> = cache
        .functions
        .keys()
        .filter(|(s, _)| s == schema)
        .collect();
    functions.sort();
    for (_, name) in functions {
        paths.insert(format!("/rpc/{name}"), json!({"post": {"tags": ["(rpc) ".to_owned() + name], "responses": {"200": {"description": "OK"}}}}));
    }
    json!({
        "swagger": "2.0",
        "info": {"title": "PostgREST-compatible data API", "version": version},
        "basePath": "/",
        "schemes": ["http"],
        "consumes": ["application/json", "application/vnd.pgrst.object+json", "text/csv"],
        "produces": ["application/json", "application/vnd.pgrst.object+json", "text/csv"],
        "paths": paths,
        "definitions": definitions,
    })
}
