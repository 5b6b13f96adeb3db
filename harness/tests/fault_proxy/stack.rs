//! The issue's own words: "adding a `down` toxic to `auth` through `FAULTS_URL` makes `API_URL`
//! answer 503", on a real stack (native PostgreSQL, the auth server, the served stages).

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
async fn a_down_toxic_on_auth_through_faults_url_makes_api_url_answer_503() {
    let stack = Stack::builder()
        .provider(harness::stack::Provider::Native)
        .start()
        .await
        .expect("boot the stack");
    let (faults, api) = (env(&stack, "FAULTS_URL"), env(&stack, "API_URL"));
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
    stack.stop().await.expect("stop the stack");
}
