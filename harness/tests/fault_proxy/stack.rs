//! The issue's own words: "adding a `down` toxic to `auth` through `FAULTS_URL` makes the
//! reference stage (then `API_URL`, now `STAGE_REFERENCE_URL`) answer 503; a 3 s `latency` toxic on `db` with a 1 s service timeout gives 503 in about 1 s;
//! removing them restores 200", on a real stack (native PostgreSQL, the auth server, the served
//! stages). Times are lower bounds only.

use harness::Stack;
use serde_json::{Value, json};

fn env(stack: &Stack, name: &str) -> String {
    stack
        .env()
        .into_iter()
        .find_map(|(key, value)| (key == name).then_some(value))
        .unwrap_or_else(|| panic!("the stack has no {name}"))
}

#[tokio::test]
async fn toxics_through_faults_url_make_api_url_answer_503_and_removing_them_restores_200() {
    let stack = Stack::builder()
        .provider(harness::stack::Provider::Native)
        .service_db_timeout(std::time::Duration::from_secs(1))
        .start()
        .await
        .expect("boot the stack");
    let (faults, api) = (
        env(&stack, "FAULTS_URL"),
        env(&stack, "STAGE_REFERENCE_URL"),
    );
    let http = reqwest::Client::new();
    let session: Value = http
        .post(format!("{}/signup", stack.auth_url().trim_end_matches('/')))
        .header("apikey", stack.anon_key())
        .json(
            &json!({"email": format!("down-{}@example.com", uuid::Uuid::new_v4()),
            "password": "correct horse battery"}),
        )
        .send()
        .await
        .expect("sign up")
        .json()
        .await
        .expect("a session");
    let token = session["access_token"].as_str().expect("an access token");
    let create = || async {
        let response = http
            .post(format!("{}/api/session/create", api.trim_end_matches('/')))
            .bearer_auth(token)
            .json(&json!({}))
            .send()
            .await
            .expect("POST /api/session/create");
        (response.status().as_u16(), response.text().await.unwrap())
    };
    assert_eq!(create().await.0, 200, "healthy before the toxic");

    let added = http
        .post(format!("{faults}/proxies/auth/toxics"))
        .json(&json!({"type": "down"}))
        .send()
        .await
        .expect("POST the down toxic");
    assert_eq!(added.status().as_u16(), 200);
    let (status, body) = create().await;
    assert_eq!(status, 503, "auth is down: {body}");

    let deleted = http
        .delete(format!("{faults}/proxies/auth/toxics/down_downstream"))
        .send()
        .await
        .expect("DELETE the down toxic");
    assert_eq!(deleted.status().as_u16(), 204);
    let (status, body) = create().await;
    assert_eq!(status, 200, "auth is back: {body}");

    let added = http
        .post(format!("{faults}/proxies/db/toxics"))
        .json(&json!({"type": "latency", "attributes": {"latency": 3000}}))
        .send()
        .await
        .expect("POST the latency toxic");
    assert_eq!(added.status().as_u16(), 200);
    let started = std::time::Instant::now();
    let (status, body) = create().await;
    let waited = started.elapsed();
    assert_eq!(status, 503, "the database answers 3 s late: {body}");
    assert!(body.contains("database_unavailable"), "{body}");
    // The 1 s budget ended it: not sooner (it did wait), and not the 3 s latency (which would
    // have answered 200).
    assert!(
        waited >= std::time::Duration::from_millis(950),
        "{waited:?}"
    );

    let deleted = http
        .delete(format!("{faults}/proxies/db/toxics/latency_downstream"))
        .send()
        .await
        .expect("DELETE the latency toxic");
    assert_eq!(deleted.status().as_u16(), 204);
    let (status, body) = create().await;
    assert_eq!(status, 200, "the database is back: {body}");
    stack.stop().await.expect("stop the stack");
}
