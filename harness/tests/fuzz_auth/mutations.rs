//! One way to spoil a well-behaved request: a field, a parameter (replaced or repeated), the
//! method, the credential, the content type, the body, the path id, a trailing slash, the
//! audience header or the API version header.

use proptest::prelude::*;

use super::requests::{Body, Credential, Endpoint, PathId, Request};
use super::values::{
    body, content_type, credential, header_text, hostile_value, path_id, query_value,
};

/// One way a valid request is spoiled.
#[derive(Debug, Clone)]
pub(super) enum Mutation {
    Nothing,
    Field(&'static str, Vec<u8>),
    Parameter(&'static str, String),
    RepeatedParameter(&'static str, String),
    Method(&'static str),
    Credential(Credential),
    ContentType(Option<String>),
    Body(Body),
    PathId(PathId),
    TrailingSlash,
    Audience(Vec<u8>),
    ApiVersion,
}

impl Mutation {
    pub(super) fn apply(self, mut request: Request) -> Request {
        match self {
            Mutation::Nothing => {}
            Mutation::Field(field, value) => {
                let mut fields = match request.body {
                    Body::Fields(fields) => fields,
                    _ => Vec::new(),
                };
                fields.retain(|(k, _)| *k != field);
                fields.push((field, value));
                request.body = Body::Fields(fields);
            }
            Mutation::Parameter(name, value) => {
                request.query.retain(|(k, _)| k != name);
                request.query.push((name.to_owned(), value));
            }
            Mutation::RepeatedParameter(name, value) => {
                request.query.push((name.to_owned(), value))
            }
            Mutation::Method(method) => request.method = method,
            Mutation::Credential(credential) => request.credential = credential,
            Mutation::ContentType(content_type) => request.content_type = content_type,
            Mutation::Body(body) => request.body = body,
            Mutation::PathId(id) => request.path_id = id,
            Mutation::TrailingSlash => request.trailing_slash = true,
            Mutation::Audience(aud) => request.aud = Some(aud),
            Mutation::ApiVersion => request.api_version = true,
        }
        request
    }
}

pub(super) fn mutation(endpoint: Endpoint) -> impl Strategy<Value = Mutation> {
    let mut choices: Vec<(u32, BoxedStrategy<Mutation>)> = vec![
        (1, Just(Mutation::Nothing).boxed()),
        (
            1,
            prop::sample::select(vec![
                "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS",
            ])
            .prop_map(Mutation::Method)
            .boxed(),
        ),
        (1, credential().prop_map(Mutation::Credential).boxed()),
        (1, content_type().prop_map(Mutation::ContentType).boxed()),
        (1, body(endpoint).prop_map(Mutation::Body).boxed()),
        (1, Just(Mutation::TrailingSlash).boxed()),
        (1, header_text().prop_map(Mutation::Audience).boxed()),
        (1, Just(Mutation::ApiVersion).boxed()),
    ];
    if !endpoint.fields().is_empty() {
        let fields = endpoint.fields();
        let field = (0..fields.len()).prop_flat_map(move |at| {
            hostile_value(fields[at]).prop_map(move |value| Mutation::Field(fields[at], value))
        });
        choices.push((8, field.boxed()));
    }
    if !endpoint.parameters().is_empty() {
        let parameters = endpoint.parameters();
        let parameter = (0..parameters.len(), any::<bool>()).prop_flat_map(move |(at, repeat)| {
            let name = parameters[at];
            query_value(name).prop_map(move |value| {
                if repeat {
                    Mutation::RepeatedParameter(name, value)
                } else {
                    Mutation::Parameter(name, value)
                }
            })
        });
        choices.push((5, parameter.boxed()));
    }
    if matches!(
        endpoint,
        Endpoint::AdminGet | Endpoint::AdminPut | Endpoint::AdminDelete
    ) {
        choices.push((3, path_id().prop_map(Mutation::PathId).boxed()));
    }
    prop::strategy::Union::new_weighted(choices)
}
