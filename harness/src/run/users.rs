//! The users a scenario declares, created fresh through the auth server for each replay.
//!
//! Emails carry a random suffix, so scenarios sharing one stack never see each other's users.
//! Tokens that need extra round trips (a logged-out session) are made only when a step uses them.

use serde::Deserialize;
use serde_json::json;

use super::{RunError, Targets};
use crate::scenario::{User, UserCreation};

/// A user as the auth server created it, with the tokens of its first session.
#[derive(Debug, Clone)]
pub struct Account {
    pub name: String,
    pub id: String,
    pub email: String,
    pub password: String,
    pub access_token: String,
    pub refresh_token: String,
    /// The access token of a second session that has since logged out.
    pub logged_out_token: Option<String>,
}

#[derive(Deserialize)]
struct Session {
    access_token: String,
    refresh_token: String,
    user: SessionUser,
}

#[derive(Deserialize)]
struct SessionUser {
    id: String,
}

impl Account {
    /// Creates `user` the way the scenario says and signs it in.
    pub async fn create(
        http: &reqwest::Client,
        targets: &Targets,
        user: &User,
        with_logged_out_session: bool,
    ) -> Result<Account, RunError> {
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let email = format!("{}-{}@example.test", user.name, &suffix[..12]);
        let password = format!("{}-password-{}", user.name, &suffix[12..20]);
        let credentials = json!({ "email": email, "password": password });
        let session = match user.created_by {
            UserCreation::SignUp => auth_call(http, targets, "/signup", None, &credentials).await?,
            UserCreation::Admin => {
                let body = json!({ "email": email, "password": password, "email_confirm": true });
                let key = Some(targets.service_role_key.as_str());
                auth_call::<serde_json::Value>(http, targets, "/admin/users", key, &body).await?;
                sign_in(http, targets, &credentials).await?
            }
        };
        let logged_out_token = if with_logged_out_session {
            let second = sign_in(http, targets, &credentials).await?;
            log_out(http, targets, &second.access_token).await?;
            Some(second.access_token)
        } else {
            None
        };
        Ok(Account {
            name: user.name.clone(),
            id: session.user.id,
            email,
            password,
            access_token: session.access_token,
            refresh_token: session.refresh_token,
            logged_out_token,
        })
    }
}

async fn sign_in(
    http: &reqwest::Client,
    targets: &Targets,
    credentials: &serde_json::Value,
) -> Result<Session, RunError> {
    auth_call(
        http,
        targets,
        "/token?grant_type=password",
        None,
        credentials,
    )
    .await
}

async fn log_out(
    http: &reqwest::Client,
    targets: &Targets,
    access_token: &str,
) -> Result<(), RunError> {
    let url = format!("{}/logout?scope=local", targets.auth_url);
    let response = http
        .post(&url)
        .header("apikey", &targets.anon_key)
        .bearer_auth(access_token)
        .send()
        .await
        .map_err(|error| RunError::setup(format!("POST {url}: {error}")))?;
    if response.status() != reqwest::StatusCode::NO_CONTENT {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        return Err(RunError::setup(format!(
            "POST {url} answered {status}, expected 204: {body}"
        )));
    }
    Ok(())
}

/// POSTs JSON to the auth server and decodes a 200 answer; anything else is a setup failure.
async fn auth_call<T: for<'de> Deserialize<'de>>(
    http: &reqwest::Client,
    targets: &Targets,
    path: &str,
    bearer: Option<&str>,
    body: &serde_json::Value,
) -> Result<T, RunError> {
    let url = format!("{}{path}", targets.auth_url);
    let mut request = http
        .post(&url)
        .header("apikey", &targets.anon_key)
        .json(body);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .map_err(|error| RunError::setup(format!("POST {url}: {error}")))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|error| RunError::setup(format!("POST {url}: reading the body: {error}")))?;
    if status != reqwest::StatusCode::OK {
        return Err(RunError::setup(format!(
            "POST {url} answered {status}, expected 200: {text}"
        )));
    }
    serde_json::from_str(&text).map_err(|error| {
        RunError::setup(format!("POST {url}: unexpected answer ({error}): {text}"))
    })
}
