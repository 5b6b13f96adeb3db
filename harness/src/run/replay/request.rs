//! Rendering a step's request from its templates, and checking what came back against its
//! expectations, captures and SQL.

use serde_json::Value;
use sqlx::Connection;

use super::Replay;
use crate::run::exchange::{self, Received, SentRequest};
use crate::run::{RedactedResponse, SNAPSHOT_HEADERS, expect, tokens};
use crate::scenario::{Body, Placeholder, Request, Target, Template, TokenKind};

impl Replay<'_> {
    /// Renders the step's request: the real one to send and its redacted twin.
    pub(super) fn outgoing(
        &self,
        step: &Request,
    ) -> Result<(exchange::Outgoing, SentRequest), String> {
        let targets = &self.runner.targets;
        let path = self.render(&step.path)?;
        let (base, base_label) = match &step.target {
            Target::Stage(stage) => {
                let url = targets
                    .stages
                    .iter()
                    .find(|(name, _)| name == stage)
                    .map(|(_, url)| url.clone())
                    .ok_or_else(|| format!("stage `{stage}` is not served by this run"))?;
                (url, format!("[stage:{stage}]"))
            }
            Target::Auth => (targets.auth_url.clone(), "[auth]".to_owned()),
            Target::Api => (targets.api_url.clone(), "[api]".to_owned()),
            Target::Url(url) => {
                let url = self.render(url)?;
                (url.actual, url.redacted)
            }
        };
        let method = reqwest::Method::from_bytes(step.method.as_bytes())
            .map_err(|error| error.to_string())?;
        let mut headers = Vec::new();
        let mut shown_headers = Vec::new();
        for (name, value) in &step.headers {
            let value = self.render(value)?;
            headers.push((name.clone(), value.actual));
            shown_headers.push((name.clone(), value.redacted));
        }
        let (body, shown_body) = match &step.body {
            None => (None, None),
            Some(Body::Raw(raw)) => {
                let raw = self.render(raw)?;
                (Some((raw.actual.into_bytes(), None)), Some(raw.redacted))
            }
            Some(Body::Json(json)) => {
                let (actual, redacted) = self.render_json(json)?;
                let shown = serde_json::to_string_pretty(&redacted).expect("JSON serialises");
                (
                    Some((
                        serde_json::to_vec(&actual).expect("JSON serialises"),
                        Some("application/json"),
                    )),
                    Some(shown),
                )
            }
        };
        let outgoing = exchange::Outgoing {
            method,
            url: format!("{base}{}", path.actual),
            headers,
            body,
        };
        let shown = SentRequest {
            method: step.method.clone(),
            url: format!("{base_label}{}", path.redacted),
            headers: shown_headers,
            body: shown_body,
        };
        Ok((outgoing, shown))
    }

    fn render(&self, template: &Template) -> Result<crate::scenario::Rendered, String> {
        template.render(|placeholder| self.value_of(placeholder))
    }

    fn render_json(&self, json: &Value) -> Result<(Value, Value), String> {
        Ok(match json {
            Value::String(text) => {
                let template = Template::parse(text).map_err(|error| error.to_string())?;
                let rendered = self.render(&template)?;
                (
                    Value::String(rendered.actual),
                    Value::String(rendered.redacted),
                )
            }
            Value::Array(items) => {
                let pairs = items
                    .iter()
                    .map(|item| self.render_json(item))
                    .collect::<Result<Vec<_>, _>>()?;
                let (actual, redacted) = pairs.into_iter().unzip();
                (Value::Array(actual), Value::Array(redacted))
            }
            Value::Object(map) => {
                let mut actual = serde_json::Map::new();
                let mut redacted = serde_json::Map::new();
                for (key, item) in map {
                    let (a, r) = self.render_json(item)?;
                    actual.insert(key.clone(), a);
                    redacted.insert(key.clone(), r);
                }
                (Value::Object(actual), Value::Object(redacted))
            }
            other => (other.clone(), other.clone()),
        })
    }

    fn value_of(&self, placeholder: &Placeholder) -> Result<String, String> {
        let account = |user: &str| {
            self.accounts
                .get(user)
                .ok_or_else(|| format!("user `{user}` was not created"))
        };
        Ok(match placeholder {
            Placeholder::UserId(user) => account(user)?.id.clone(),
            Placeholder::UserEmail(user) => account(user)?.email.clone(),
            Placeholder::UserPassword(user) => account(user)?.password.clone(),
            Placeholder::Token(user, kind) => {
                let account = account(user)?;
                match kind {
                    TokenKind::Valid => account.access_token.clone(),
                    TokenKind::Refresh => account.refresh_token.clone(),
                    TokenKind::LoggedOut => account.logged_out_token.clone().ok_or_else(|| {
                        format!("no logged-out session was prepared for `{user}`")
                    })?,
                    minted => tokens::mint(
                        *minted,
                        &account.access_token,
                        &self.runner.targets.keys.current(),
                        &super::ATTACKER,
                        unix_now(),
                    )
                    .map_err(|error| error.to_string())?,
                }
            }
            Placeholder::Repeat { times, text } => text.repeat(*times),
            Placeholder::AnonKey => self.runner.targets.anon_key.clone(),
            Placeholder::ServiceRoleKey => self.runner.targets.service_role_key.clone(),
            Placeholder::IssuedBadSignature => self
                .runner
                .targets
                .keys
                .current()
                .issued_bad_signature()
                .to_owned(),
            Placeholder::PublishableKey | Placeholder::SecretKey => {
                let keys = self.runner.targets.keys.current();
                let key = match placeholder {
                    Placeholder::PublishableKey => keys.publishable_key(),
                    _ => keys.secret_key(),
                };
                key.map(str::to_owned).ok_or_else(|| {
                    format!(
                        "`{{{{{placeholder}}}}}`: the `{}` key profile has no opaque API keys \
                         (sb_publishable_…, sb_secret_…): give the scenario `keys = \"cli\"`",
                        keys.profile().name()
                    )
                })?
            }
            Placeholder::Capture(name) => self.captures.get(name).cloned().ok_or_else(|| {
                format!(
                    "`capture.{name}` was not captured: the step that should have did not find it"
                )
            })?,
        })
    }

    pub(super) fn capture(
        &mut self,
        step: &Request,
        received: &Received,
        failures: &mut Vec<String>,
    ) {
        if step.captures.is_empty() {
            return;
        }
        let body: Option<Value> = serde_json::from_str(&received.body).ok();
        for (name, field) in &step.captures {
            match body
                .as_ref()
                .and_then(|body| expect::json_path(body, field))
            {
                Some(value) => {
                    let text = value
                        .as_str()
                        .map_or_else(|| value.to_string(), str::to_owned);
                    self.redactor.know(&text, format!("capture.{name}"));
                    self.captures.insert(name.clone(), text);
                }
                None => failures.push(format!(
                    "capture {name}: the response has no JSON field `{field}`"
                )),
            }
        }
    }

    pub(super) async fn check(
        &mut self,
        step: &Request,
        received: &Received,
        failures: &mut Vec<String>,
    ) {
        let expect = &step.expect;
        failures.extend(expect::status(expect.status, received));
        for (name, value) in &expect.headers {
            match self.render(value) {
                Ok(value) => failures.extend(expect::header(name, &value.actual, received)),
                Err(error) => failures.push(error),
            }
        }
        let body: Option<Value> = serde_json::from_str(&received.body).ok();
        for (path, expected) in &expect.json {
            match self.render_json(expected) {
                Ok((expected, _)) => {
                    failures.extend(expect::json_field(path, &expected, body.as_ref()))
                }
                Err(error) => failures.push(error),
            }
        }
        for text in &expect.body_contains {
            match self.render(text) {
                Ok(text) => failures.extend(expect::body_contains(&text.actual, received)),
                Err(error) => failures.push(error),
            }
        }
        self.check_sql_only(step, failures).await;
    }

    /// The `sql` expectations of a step that expects no answer.
    pub(super) async fn check_sql_only(&mut self, step: &Request, failures: &mut Vec<String>) {
        for (query, expected) in &step.expect.sql {
            if let Err(failure) = self.check_sql(query, expected).await {
                failures.push(failure);
            }
        }
    }

    /// Runs `query` as superuser; its single value must equal `expected`.
    async fn check_sql(&mut self, query: &Template, expected: &Value) -> Result<(), String> {
        let query = self.render(query)?;
        let (expected, _) = self.render_json(expected)?;
        // to_jsonb keeps every column type comparable with the TOML value.
        let wrapped = format!("select to_jsonb(result) from ({}) as result", query.actual);
        // A fault (a killed or restarted database) may have broken the kept connection since
        // the last check: that is no answer about the query, so connect afresh once.
        let mut attempts = 2;
        let row: Value = loop {
            attempts -= 1;
            if self.db.is_none() {
                let connection = sqlx::PgConnection::connect(&self.runner.targets.db_url)
                    .await
                    .map_err(|error| format!("sql: cannot connect to the database: {error}"))?;
                self.db = Some(connection);
            }
            let db = self.db.as_mut().expect("connected above");
            match sqlx::query_scalar(&wrapped).fetch_one(&mut *db).await {
                Ok(row) => break row,
                Err(error) => {
                    // A server that is shutting down or lost its postmaster says so (class 57P)
                    // and closes the connection: broken too, though PostgreSQL said it.
                    let broken = match &error {
                        sqlx::Error::Database(db) => {
                            db.code().is_some_and(|code| code.starts_with("57P"))
                        }
                        _ => true,
                    };
                    if broken {
                        self.db = None;
                    }
                    if !broken || attempts == 0 {
                        return Err(format!("sql `{}`: {error}", query.redacted));
                    }
                }
            }
        };
        let actual = match &row {
            Value::Object(columns) if columns.len() == 1 => {
                columns.values().next().cloned().unwrap_or(Value::Null)
            }
            other => other.clone(),
        };
        if actual == expected {
            Ok(())
        } else {
            Err(format!(
                "sql `{}`: expected {expected}, got {actual}",
                query.redacted
            ))
        }
    }

    pub(super) fn redact(&mut self, received: &Received) -> RedactedResponse {
        if let Some(request_id) = received.request_id() {
            self.redactor.know(request_id, "request-id");
        }
        let headers = SNAPSHOT_HEADERS
            .iter()
            .flat_map(|name| {
                let values: Vec<String> = received.header_values(name).map(str::to_owned).collect();
                values
                    .into_iter()
                    .map(move |value| (name.to_string(), value))
            })
            .map(|(name, value)| (name, self.redactor.text(&value)))
            .collect();
        RedactedResponse {
            status: received.status,
            headers,
            body: self.redactor.body(&received.body),
        }
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}
