//! Serving a stage with nothing behind it: an auth server and a database that refuse connections.

#![allow(dead_code)] // each test binary uses its own subset

use std::time::Duration;

use service::{Config, Stage};

/// A config pointing at a port nobody listens on, for both the auth server and the database.
pub fn nothing_listening() -> Config {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    Config::new(
        format!("http://127.0.0.1:{port}").parse().unwrap(),
        "anon-key",
        format!("postgres://authenticator@127.0.0.1:{port}/postgres"),
    )
    .with_auth_timeout(Duration::from_millis(500))
    .with_db_timeout(Duration::from_millis(500))
    .with_jwt_secret("super-secret-jwt-token-with-at-least-32-characters-long")
}

/// Serves `stage` on 127.0.0.1:0 for the rest of the test; its base URL.
pub async fn serve(stage: Stage) -> String {
    let router = service::app(&nothing_listening(), stage).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(service::serve(listener, router, std::future::pending()));
    base
}

pub async fn post(url: &str, headers: &[(&str, &str)], body: &str) -> reqwest::Response {
    let mut request = reqwest::Client::new().post(url).body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

pub const TOKEN: &str = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
