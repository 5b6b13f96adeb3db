//! Kong's key-auth, ACL and `Authorization` transformer, as the self-hosted `kong.yml` and its
//! entrypoint configure them for the stack's two consumers.
//!
//! Consumers: `anon` (group `anon`) holds the anon key and, when configured, the publishable key;
//! `service_role` (group `admin`) the service_role key and the secret key. Both groups may use
//! both keyed routes. The key only opens the gate: the role the upstream acts as comes from the
//! `Authorization` the transformer leaves, never from the key itself.

use axum::http::{HeaderMap, HeaderValue};
use uuid::Uuid;

use super::errors::GatewayError;

/// Kong's key name (`key_names = ["apikey"]`), looked up in headers, then the query string.
pub const KEY_NAME: &str = "apikey";

/// The keys the gateway knows and what the opaque ones stand for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayKeys {
    /// The anon JWT: a credential of `anon`, and what the publishable key becomes.
    pub anon: String,
    /// The service_role JWT: a credential of `service_role`, and what the secret key becomes.
    pub service_role: String,
    /// `sb_publishable_…`, when the stack issues one.
    pub publishable: Option<String>,
    /// `sb_secret_…`, when the stack issues one.
    pub secret: Option<String>,
}

/// The consumer a key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consumer {
    Anon,
    ServiceRole,
}

impl Consumer {
    pub fn username(self) -> &'static str {
        match self {
            Consumer::Anon => "anon",
            Consumer::ServiceRole => "service_role",
        }
    }

    /// A stable id, as Kong's declarative config derives one per entity.
    fn id(self) -> Uuid {
        Uuid::new_v5(&Uuid::NAMESPACE_OID, self.username().as_bytes())
    }
}

/// A request that passed key-auth: who it is and which key it used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    pub consumer: Consumer,
    pub key: String,
}

impl GatewayKeys {
    fn consumer_of(&self, key: &str) -> Option<Consumer> {
        let is = |candidate: &Option<String>| candidate.as_deref() == Some(key);
        if key == self.anon || is(&self.publishable) {
            Some(Consumer::Anon)
        } else if key == self.service_role || is(&self.secret) {
            Some(Consumer::ServiceRole)
        } else {
            None
        }
    }

    /// key-auth for one request: the `apikey` header (any letter case), else the query string's.
    pub fn authenticate(
        &self,
        headers: &HeaderMap,
        query: Option<&str>,
    ) -> Result<Authenticated, GatewayError> {
        let key = find_key(headers, query)?;
        let consumer = self.consumer_of(&key).ok_or(GatewayError::InvalidKey)?;
        Ok(Authenticated { consumer, key })
    }

    /// The transformer's `Authorization` for the upstream: the client's own unless it is absent
    /// or a `Bearer sb_…`; then the JWT an opaque key stands for; else the raw key, without
    /// `Bearer` (so neither upstream reads it as a token, and the request stays anonymous).
    pub fn upstream_authorization(
        &self,
        client: Option<&HeaderValue>,
        key: &str,
    ) -> Option<HeaderValue> {
        if let Some(value) = client
            && !value.as_bytes().starts_with(b"Bearer sb_")
        {
            return Some(value.clone());
        }
        let is = |candidate: &Option<String>| candidate.as_deref() == Some(key);
        let value = if is(&self.secret) {
            format!("Bearer {}", self.service_role)
        } else if is(&self.publishable) {
            format!("Bearer {}", self.anon)
        } else {
            key.to_owned()
        };
        HeaderValue::from_str(&value).ok()
    }
}

/// Kong's lookup: a repeated header (or query parameter) is a duplicate, an empty one no key.
fn find_key(headers: &HeaderMap, query: Option<&str>) -> Result<String, GatewayError> {
    let in_headers: Vec<&HeaderValue> = headers.get_all(KEY_NAME).iter().collect();
    let key = match in_headers.as_slice() {
        [] => from_query(query)?,
        [one] => Some(String::from_utf8_lossy(one.as_bytes()).into_owned()),
        _ => return Err(GatewayError::DuplicateKey),
    };
    match key {
        Some(key) if !key.is_empty() => Ok(key),
        _ => Err(GatewayError::NoApiKey),
    }
}

/// `?apikey=…`: nginx decodes it; `?apikey` without `=` is no key; twice is a duplicate.
fn from_query(query: Option<&str>) -> Result<Option<String>, GatewayError> {
    let Some(query) = query else { return Ok(None) };
    let mut found = None;
    for pair in query.split('&') {
        let (name, value) = match pair.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (pair, None),
        };
        if decode(name) != KEY_NAME {
            continue;
        }
        if found.is_some() {
            return Err(GatewayError::DuplicateKey);
        }
        found = Some(value.map(decode));
    }
    Ok(found.flatten())
}

fn decode(text: &str) -> String {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// What key-auth sets on the upstream request (and the spoofable headers it clears).
pub fn consumer_headers(headers: &mut HeaderMap, who: &Authenticated) {
    for cleared in [
        "x-anonymous",
        "x-consumer-custom-id",
        "x-credential-username",
        "x-consumer-groups",
    ] {
        headers.remove(cleared);
    }
    let credential = Uuid::new_v5(&who.consumer.id(), who.key.as_bytes());
    headers.insert(
        "x-consumer-id",
        HeaderValue::from_str(&who.consumer.id().to_string()).expect("a UUID is a header value"),
    );
    headers.insert(
        "x-consumer-username",
        HeaderValue::from_static(who.consumer.username()),
    );
    headers.insert(
        "x-credential-identifier",
        HeaderValue::from_str(&credential.to_string()).expect("a UUID is a header value"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(opaque: bool) -> GatewayKeys {
        GatewayKeys {
            anon: "anon.jwt.key".into(),
            service_role: "service.jwt.key".into(),
            publishable: opaque.then(|| "sb_publishable_abc".into()),
            secret: opaque.then(|| "sb_secret_xyz".into()),
        }
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    /// Headers, query string, the consumer or the refusal.
    type KeyCase<'a> = (
        &'a [(&'a str, &'a str)],
        Option<&'a str>,
        Result<Consumer, GatewayError>,
    );

    #[test]
    fn key_lookup_follows_kong() {
        let keys = keys(true);
        let cases: &[KeyCase] = &[
            (&[("apikey", "anon.jwt.key")], None, Ok(Consumer::Anon)),
            (&[("apiKey", "anon.jwt.key")], None, Ok(Consumer::Anon)),
            (
                &[("apikey", "sb_secret_xyz")],
                None,
                Ok(Consumer::ServiceRole),
            ),
            (&[], Some("apikey=sb_publishable_abc"), Ok(Consumer::Anon)),
            (
                &[],
                Some("a=1&apikey=service.jwt.key"),
                Ok(Consumer::ServiceRole),
            ),
            (&[], None, Err(GatewayError::NoApiKey)),
            (&[("apikey", "")], None, Err(GatewayError::NoApiKey)),
            (&[], Some("apikey"), Err(GatewayError::NoApiKey)),
            (&[("apikey", "nope")], None, Err(GatewayError::InvalidKey)),
            (
                &[("apikey", "anon.jwt.key"), ("APIKEY", "anon.jwt.key")],
                None,
                Err(GatewayError::DuplicateKey),
            ),
            (
                &[],
                Some("apikey=a&apikey=b"),
                Err(GatewayError::DuplicateKey),
            ),
            // The header wins over the query string.
            (
                &[("apikey", "anon.jwt.key")],
                Some("apikey=nope"),
                Ok(Consumer::Anon),
            ),
        ];
        for (pairs, query, expected) in cases {
            let got = keys
                .authenticate(&headers(pairs), *query)
                .map(|who| who.consumer);
            assert_eq!(&got, expected, "{pairs:?} {query:?}");
        }
    }

    #[test]
    fn opaque_keys_are_unknown_when_the_stack_issues_none() {
        let got = keys(false).authenticate(&headers(&[("apikey", "sb_secret_xyz")]), None);
        assert_eq!(got, Err(GatewayError::InvalidKey));
    }

    #[test]
    fn the_transformer_keeps_a_users_token_and_swaps_opaque_keys() {
        let keys = keys(true);
        let bearer = |v: &str| HeaderValue::from_str(v).unwrap();
        let cases = [
            (
                Some("Bearer user.jwt"),
                "sb_publishable_abc",
                "Bearer user.jwt",
            ),
            (Some("bearer user.jwt"), "anon.jwt.key", "bearer user.jwt"),
            (None, "sb_secret_xyz", "Bearer service.jwt.key"),
            (None, "sb_publishable_abc", "Bearer anon.jwt.key"),
            (
                Some("Bearer sb_publishable_abc"),
                "sb_publishable_abc",
                "Bearer anon.jwt.key",
            ),
            // A legacy key alone: copied raw, no `Bearer`, so the request stays anonymous.
            (None, "service.jwt.key", "service.jwt.key"),
        ];
        for (client, key, expected) in cases {
            let client = client.map(bearer);
            let got = keys.upstream_authorization(client.as_ref(), key).unwrap();
            assert_eq!(got, expected, "{client:?} {key}");
        }
    }

    #[test]
    fn consumer_headers_replace_what_a_client_sent() {
        let mut upstream = headers(&[
            ("x-consumer-username", "service_role"),
            ("x-consumer-groups", "admin"),
            ("x-anonymous", "true"),
        ]);
        let who = Authenticated {
            consumer: Consumer::Anon,
            key: "anon.jwt.key".into(),
        };
        consumer_headers(&mut upstream, &who);
        assert_eq!(upstream["x-consumer-username"], "anon");
        assert_eq!(upstream.get_all("x-consumer-username").iter().count(), 1);
        assert!(upstream.get("x-consumer-groups").is_none());
        assert!(upstream.get("x-anonymous").is_none());
        assert_eq!(
            upstream["x-consumer-id"],
            Consumer::Anon.id().to_string().as_str()
        );
    }
}
