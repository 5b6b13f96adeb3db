//! The two cache policies, counted against a JWKS server that a test controls (wiremock: the
//! only way to see how often a client fetches, and to make the endpoint misbehave).

use std::time::Duration;

use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;

const KID: &str = "b81269f1-21d8-4f2e-b719-c2240a840d90";

/// The CLI's public signing key, as GoTrue publishes it.
fn jwks() -> serde_json::Value {
    serde_json::json!({"keys": [{
        "alg": "ES256", "crv": "P-256", "ext": true, "key_ops": ["verify"], "kid": KID,
        "kty": "EC", "use": "sig",
        "x": "M5Sjqn5zwC9Kl1zVfUUGvv9boQjCGd45G8sdopBExB4",
        "y": "P6IXMvA2WYXSHSOMTBH2jsw_9rrzGy89FjPf6oOsIxQ"
    }]})
}

async fn server(response: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/.well-known/jwks.json"))
        .and(header("apikey", "anon"))
        .respond_with(response)
        .mount(&server)
        .await;
    server
}

fn client(server: &MockServer, policy: CachePolicy, epoch: &CacheEpoch) -> JwksClient {
    JwksClient::new(
        reqwest::Client::new(),
        &format!("{}/", server.uri()),
        "anon",
        policy,
        epoch.clone(),
    )
}

async fn fetches(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

#[tokio::test]
async fn the_ttl_policy_fetches_once_then_again_for_a_kid_it_lacks_and_after_a_reset() {
    let server = server(ResponseTemplate::new(200).set_body_json(jwks())).await;
    let epoch = CacheEpoch::new();
    let jwks = client(&server, CachePolicy::Ttl(JWKS_TTL), &epoch);
    assert!(matches!(jwks.find(KID).await, Ok(Lookup::Found(_))));
    assert!(matches!(jwks.find(KID).await, Ok(Lookup::Found(_))));
    assert_eq!(fetches(&server).await, 1, "the second lookup is cached");
    assert!(matches!(
        jwks.find("rotated-in").await,
        Ok(Lookup::Missing { fresh: true })
    ));
    assert_eq!(fetches(&server).await, 2, "one refetch for the unknown kid");
    epoch.reset();
    assert!(matches!(jwks.find(KID).await, Ok(Lookup::Found(_))));
    assert_eq!(fetches(&server).await, 3, "a reset empties the cache");
}

#[tokio::test]
async fn the_ttl_policy_fetches_again_once_the_cache_is_older_than_its_ttl() {
    let server = server(ResponseTemplate::new(200).set_body_json(jwks())).await;
    let jwks = client(
        &server,
        CachePolicy::Ttl(Duration::from_millis(50)),
        &CacheEpoch::new(),
    );
    jwks.find(KID).await.unwrap();
    tokio::time::sleep(Duration::from_millis(80)).await;
    jwks.find(KID).await.unwrap();
    assert_eq!(fetches(&server).await, 2);
}

#[tokio::test]
async fn the_forever_policy_never_fetches_again() {
    let server = server(ResponseTemplate::new(200).set_body_json(jwks())).await;
    let jwks = client(&server, CachePolicy::Forever, &CacheEpoch::new());
    jwks.find(KID).await.unwrap();
    assert!(matches!(
        jwks.find("rotated-in").await,
        Ok(Lookup::Missing { fresh: false })
    ));
    assert_eq!(fetches(&server).await, 1);
}

#[tokio::test]
async fn an_endpoint_that_fails_is_unavailable_and_caches_nothing() {
    let failing = server(ResponseTemplate::new(503).set_body_string("upstream down")).await;
    let jwks = client(&failing, CachePolicy::Forever, &CacheEpoch::new());
    let error = jwks.find(KID).await.unwrap_err();
    assert_eq!(
        error.reason,
        "the auth server answered 503 Service Unavailable"
    );
    assert!(error.to_string().ends_with("/.well-known/jwks.json could not be fetched: the auth server answered 503 Service Unavailable"), "{error}");
    jwks.find(KID).await.unwrap_err();
    assert_eq!(
        fetches(&failing).await,
        2,
        "a failure is not cached, even forever"
    );

    let garbage = server(ResponseTemplate::new(200).set_body_string("<html>")).await;
    let error = client(&garbage, CachePolicy::Ttl(JWKS_TTL), &CacheEpoch::new())
        .find(KID)
        .await
        .unwrap_err();
    assert!(
        error.reason.starts_with("the answer is not a JWK Set"),
        "{error}"
    );
}

#[tokio::test]
async fn a_refused_connection_is_unavailable_saying_so() {
    // A port nothing listens on (wiremock keeps its servers alive in a pool).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let jwks = JwksClient::new(
        reqwest::Client::new(),
        &url,
        "anon",
        CachePolicy::Ttl(JWKS_TTL),
        CacheEpoch::new(),
    );
    let error = jwks.find(KID).await.unwrap_err();
    assert!(error.reason.starts_with("connection failed"), "{error}");
}
