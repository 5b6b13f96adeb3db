//! HTTP faults of the auth upstream that a TCP proxy cannot make: the `auth` proxy is pointed at
//! one of these servers, which answers `GET /user` the broken way asked for.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::AuthHttpFault;

/// How long the slow body stalls after its headers: longer than any service timeout.
const SLOW_BODY_STALL: Duration = Duration::from_secs(60);

/// A misbehaving stand-in for the auth server, listening on 127.0.0.1.
pub struct AuthHttpServer {
    address: SocketAddr,
    // Kept for their lifetime: dropping either stops it.
    _mock: Option<MockServer>,
    _stream: Option<tokio::task::JoinHandle<()>>,
}

impl AuthHttpServer {
    pub async fn start(fault: AuthHttpFault) -> std::io::Result<AuthHttpServer> {
        if fault == AuthHttpFault::SlowBody {
            return slow_body_server().await;
        }
        let mock = MockServer::builder().start().await;
        Mock::given(method("GET"))
            .and(path("/user"))
            .respond_with(canned(fault))
            .mount(&mock)
            .await;
        Ok(AuthHttpServer {
            address: *mock.address(),
            _mock: Some(mock),
            _stream: None,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }
}

impl Drop for AuthHttpServer {
    fn drop(&mut self) {
        if let Some(task) = &self._stream {
            task.abort();
        }
    }
}

/// The answers wiremock can give as they are.
fn canned(fault: AuthHttpFault) -> ResponseTemplate {
    let gotrue_error = |status: u16, code: &str, message: &str| {
        ResponseTemplate::new(status).set_body_json(serde_json::json!({
            "code": status, "error_code": code, "msg": message
        }))
    };
    match fault {
        AuthHttpFault::ServerError => gotrue_error(
            500,
            "unexpected_failure",
            "Unexpected failure, please check server logs for more information",
        ),
        // What a load balancer in front of GoTrue says when GoTrue is gone.
        AuthHttpFault::Unavailable => ResponseTemplate::new(503)
            .insert_header("content-type", "text/plain")
            .set_body_string("upstream connect error or disconnect/reset before headers"),
        AuthHttpFault::RateLimited => {
            gotrue_error(429, "over_request_rate_limit", "Request rate limit reached")
                .insert_header("retry-after", "30")
        }
        AuthHttpFault::MalformedJson => ResponseTemplate::new(200)
            .insert_header("content-type", "application/json")
            .set_body_string(r#"{"id": "6f1c2a4e-"#),
        AuthHttpFault::OtherUser => ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "id": "00000000-0000-4000-8000-00000000beef",
            "aud": "authenticated",
            "role": "authenticated",
            "email": "someone-else@example.com",
            "app_metadata": {"provider": "email", "providers": ["email"]},
            "user_metadata": {},
            "is_anonymous": false
        })),
        AuthHttpFault::SlowBody => unreachable!("served by slow_body_server"),
    }
}

/// Headers at once, then a body that stalls. wiremock can only delay a whole response, so this
/// one is an axum route streaming a body that never finishes in time.
async fn slow_body_server() -> std::io::Result<AuthHttpServer> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let app = axum::Router::new().route(
        "/user",
        axum::routing::get(|| async {
            let chunks = futures_util::stream::unfold(0u8, |sent| async move {
                match sent {
                    0 => Some((Ok::<_, std::io::Error>(b"{\"id\":".to_vec()), 1)),
                    _ => {
                        tokio::time::sleep(SLOW_BODY_STALL).await;
                        None
                    }
                }
            });
            axum::response::Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(Body::from_stream(chunks))
                .expect("a static response builds")
        }),
    );
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(AuthHttpServer {
        address,
        _mock: None,
        _stream: Some(task),
    })
}
