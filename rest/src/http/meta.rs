//! What is not a table or a call: `OPTIONS` (the `Allow` header) and `GET /` (the OpenAPI
//! document, or PGRST126 when disabled).

use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::config::Config;
use crate::error::ApiError;
use crate::schema::SchemaCache;

use super::request::Resource;
use super::{POSTGREST_VERSION, openapi};

/// `OPTIONS`: 200 with the methods the resource takes.
pub fn options(
    cache: &SchemaCache,
    schema: &str,
    resource: &Resource,
) -> Result<Response, ApiError> {
    // PostgREST's rule: from the relation's updatability and key, the function's volatility.
    let allow = match resource {
        Resource::Root => "OPTIONS,GET,HEAD".to_owned(),
        Resource::Rpc(name) => {
            let overloads = cache.functions(schema, name);
            if overloads.is_empty() {
                return Err(ApiError::NoFunction {
                    message: format!(
                        "Could not find the function {schema}.{name} without parameters in the schema cache"
                    ),
                    details: format!(
                        "Searched for the function {schema}.{name} without parameters, but no matches were found in the schema cache."
                    ),
                    hint: None,
                });
            }
            if overloads[0].volatility == 'v' {
                "OPTIONS,POST".to_owned()
            } else {
                "OPTIONS,GET,HEAD,POST".to_owned()
            }
        }
        Resource::Relation(name) => {
            let t = cache
                .table(schema, name)
                .ok_or_else(|| ApiError::TableNotFound {
                    schema: schema.to_owned(),
                    table: name.clone(),
                    suggestion: cache.similar_table(schema, name),
                })?;
            let mut allow = vec!["OPTIONS,GET,HEAD"];
            if t.insertable {
                allow.push("POST");
            }
            if t.insertable && t.updatable && !t.primary_key().is_empty() {
                allow.push("PUT");
            }
            if t.updatable {
                allow.push("PATCH");
            }
            if t.deletable {
                allow.push("DELETE");
            }
            allow.join(",")
        }
    };
    Ok((
        StatusCode::OK,
        [
            (header::ALLOW, allow.as_str()),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
    )
        .into_response())
}

/// `GET /`.
pub fn root(
    config: &Config,
    cache: &SchemaCache,
    schema: &str,
    method: &Method,
) -> Result<Response, ApiError> {
    if config.openapi_mode == crate::config::OpenApiMode::Disabled {
        return Err(ApiError::OpenApiDisabled);
    }
    let doc = openapi::document(cache, schema, POSTGREST_VERSION).to_string();
    let body = if *method == Method::HEAD {
        String::new()
    } else {
        doc
    };
    Ok((
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "application/openapi+json; charset=utf-8",
        )],
        body,
    )
        .into_response())
}
