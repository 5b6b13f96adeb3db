//! The keys of `supabase/config.toml` that shape what the harness boots, with the Supabase CLI's
//! defaults (its `config.toml` template), and how they reach the auth server and the data API.
//!
//! The mapping to GoTrue's and PostgREST's environment variables is the one the CLI's
//! `internal/start/start.go` applies when it starts their containers, so a project behaves the
//! same under the harness as under `supabase start`.

use std::path::PathBuf;

use super::doc::{ConfigDoc, Leftover};
use crate::project::{ProjectError, Warning};
use toml::de::DeValue;

/// The PostgreSQL major version the harness runs.
pub const POSTGRES_MAJOR: u32 = 15;

/// What the harness uses of `supabase/config.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupabaseConfig {
    /// `project_id`: the CLI's label for the project.
    pub project_id: String,
    /// `[db] major_version` (checked against [`POSTGRES_MAJOR`] when loading).
    pub major_version: u64,
    /// `[db.migrations] enabled`.
    pub migrations_enabled: bool,
    /// `[db.seed] enabled`.
    pub seed_enabled: bool,
    /// `[db.seed] sql_paths`, as written (globs relative to `supabase/`).
    pub seed_paths: Vec<String>,
    pub auth: AuthConfig,
    pub api: ApiConfig,
}

/// `[auth]` and `[auth.email]`: what the auth server is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    pub site_url: String,
    pub additional_redirect_urls: Vec<String>,
    /// Access token lifetime in seconds.
    pub jwt_expiry: u64,
    pub enable_signup: bool,
    pub enable_anonymous_sign_ins: bool,
    pub enable_refresh_token_rotation: bool,
    /// Seconds a rotated refresh token may still be used.
    pub refresh_token_reuse_interval: u64,
    pub minimum_password_length: u64,
    /// `[auth.email] enable_signup`.
    pub email_enable_signup: bool,
    /// `[auth.email] enable_confirmations`.
    pub email_enable_confirmations: bool,
    /// `signing_keys_path`, resolved against `supabase/` as the CLI does; the keys themselves
    /// are read by whoever sets up the stack's signing keys.
    pub signing_keys_path: Option<PathBuf>,
}

/// `[api]`: what the data API is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiConfig {
    pub schemas: Vec<String>,
    pub extra_search_path: Vec<String>,
    pub max_rows: u64,
}

impl AuthConfig {
    /// GoTrue's variables for these settings, named and valued as the CLI sets them.
    ///
    /// ```
    /// # let config = harness::project::AuthConfig::default();
    /// let env = config.gotrue_env();
    /// assert!(env.contains(&("GOTRUE_JWT_EXP", "3600".to_owned())));
    /// ```
    pub fn gotrue_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GOTRUE_SITE_URL", self.site_url.clone()),
            (
                "GOTRUE_URI_ALLOW_LIST",
                self.additional_redirect_urls.join(","),
            ),
            ("GOTRUE_DISABLE_SIGNUP", (!self.enable_signup).to_string()),
            ("GOTRUE_JWT_EXP", self.jwt_expiry.to_string()),
            (
                "GOTRUE_EXTERNAL_EMAIL_ENABLED",
                self.email_enable_signup.to_string(),
            ),
            (
                "GOTRUE_MAILER_AUTOCONFIRM",
                (!self.email_enable_confirmations).to_string(),
            ),
            (
                "GOTRUE_EXTERNAL_ANONYMOUS_USERS_ENABLED",
                self.enable_anonymous_sign_ins.to_string(),
            ),
            (
                "GOTRUE_PASSWORD_MIN_LENGTH",
                self.minimum_password_length.to_string(),
            ),
            (
                "GOTRUE_SECURITY_REFRESH_TOKEN_ROTATION_ENABLED",
                self.enable_refresh_token_rotation.to_string(),
            ),
            (
                "GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL",
                self.refresh_token_reuse_interval.to_string(),
            ),
        ]
    }
}

impl Default for AuthConfig {
    /// The CLI template's values.
    fn default() -> Self {
        Self {
            site_url: "http://127.0.0.1:3000".to_owned(),
            additional_redirect_urls: vec!["https://127.0.0.1:3000".to_owned()],
            jwt_expiry: 3600,
            enable_signup: true,
            enable_anonymous_sign_ins: false,
            enable_refresh_token_rotation: true,
            refresh_token_reuse_interval: 10,
            minimum_password_length: 6,
            email_enable_signup: true,
            email_enable_confirmations: false,
            signing_keys_path: None,
        }
    }
}

impl ApiConfig {
    /// PostgREST's variables for these settings, as the CLI sets them.
    pub fn postgrest_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("PGRST_DB_SCHEMAS", self.schemas.join(",")),
            (
                "PGRST_DB_EXTRA_SEARCH_PATH",
                self.extra_search_path.join(","),
            ),
            ("PGRST_DB_MAX_ROWS", self.max_rows.to_string()),
        ]
    }
}

impl Default for ApiConfig {
    /// The CLI template's values.
    fn default() -> Self {
        Self {
            schemas: vec!["public".to_owned(), "graphql_public".to_owned()],
            extra_search_path: vec!["public".to_owned(), "extensions".to_owned()],
            max_rows: 1000,
        }
    }
}

impl SupabaseConfig {
    /// Reads the modelled keys, then turns every other key into a warning (see
    /// [`ignored_warnings`]). `supabase_dir` resolves `signing_keys_path`.
    pub(super) fn read(
        doc: &ConfigDoc,
        supabase_dir: &std::path::Path,
        warnings: &mut Vec<Warning>,
    ) -> Result<Self, ProjectError> {
        let (auth_defaults, api_defaults) = (AuthConfig::default(), ApiConfig::default());
        let auth = AuthConfig {
            site_url: doc.string("auth.site_url", &auth_defaults.site_url)?,
            additional_redirect_urls: doc
                .strings("auth.additional_redirect_urls", &["https://127.0.0.1:3000"])?,
            jwt_expiry: doc.uint("auth.jwt_expiry", auth_defaults.jwt_expiry)?,
            enable_signup: doc.bool("auth.enable_signup", true)?,
            enable_anonymous_sign_ins: doc.bool("auth.enable_anonymous_sign_ins", false)?,
            enable_refresh_token_rotation: doc.bool("auth.enable_refresh_token_rotation", true)?,
            refresh_token_reuse_interval: doc.uint("auth.refresh_token_reuse_interval", 10)?,
            minimum_password_length: doc.uint("auth.minimum_password_length", 6)?,
            email_enable_signup: doc.bool("auth.email.enable_signup", true)?,
            email_enable_confirmations: doc.bool("auth.email.enable_confirmations", false)?,
            signing_keys_path: doc
                .optional_string("auth.signing_keys_path")?
                .filter(|path| !path.is_empty())
                .map(|path| supabase_dir.join(path)),
        };
        let api = ApiConfig {
            schemas: doc.strings("api.schemas", &["public", "graphql_public"])?,
            extra_search_path: doc.strings("api.extra_search_path", &["public", "extensions"])?,
            max_rows: doc.uint("api.max_rows", api_defaults.max_rows)?,
        };
        let config = SupabaseConfig {
            project_id: doc.string("project_id", "")?,
            // The CLI template's default since CLI 2.x; older templates wrote 15.
            major_version: doc.uint("db.major_version", 17)?,
            migrations_enabled: doc.bool("db.migrations.enabled", true)?,
            seed_enabled: doc.bool("db.seed.enabled", true)?,
            seed_paths: doc.strings("db.seed.sql_paths", &["./seed.sql"])?,
            auth,
            api,
        };
        if config.major_version != u64::from(POSTGRES_MAJOR) {
            return Err(ProjectError::MajorVersion {
                path: doc.path().to_path_buf(),
                position: doc.position("db.major_version"),
                found: config.major_version,
                runs: POSTGRES_MAJOR,
                defaulted: !doc.has("db.major_version"),
            });
        }
        for (key, what) in SWITCHES {
            if !doc.bool(key, true)? {
                warnings.push(Warning {
                    path: doc.path().to_path_buf(),
                    position: doc.position(key),
                    subject: (*key).to_owned(),
                    message: format!("{key} = false is ignored: the harness always runs {what}"),
                });
            }
        }
        warnings.extend(ignored_warnings(doc));
        Ok(config)
    }
}

/// Components a project may switch off that every stack runs anyway.
const SWITCHES: &[(&str, &str)] = &[
    ("auth.enabled", "the auth server"),
    ("api.enabled", "the API"),
];

/// Whole tables of components the harness does not run: one warning per table, not per key.
const COMPONENTS: &[(&str, &str)] = &[
    ("realtime", "the harness runs no Realtime server"),
    ("studio", "the harness runs no Studio"),
    ("inbucket", "the harness runs no mail catcher"),
    (
        "storage",
        "the harness runs no Storage server: calls to /storage/v1 will fail",
    ),
    ("edge_runtime", "the harness runs no Edge Functions runtime"),
    ("functions", "the harness runs no Edge Functions"),
    ("analytics", "the harness runs no analytics server"),
    (
        "experimental",
        "the harness has none of the CLI's experimental features",
    ),
    ("remotes", "the harness only runs the local project"),
    ("db.pooler", "the harness runs no connection pooler"),
    ("db.vault", "the harness has no Vault"),
    (
        "db.network_restrictions",
        "the harness serves on 127.0.0.1 only",
    ),
    ("api.tls", "the harness serves plain HTTP"),
    ("auth.rate_limit", "the auth server does not rate-limit"),
    ("auth.captcha", "the auth server has no captcha"),
    ("auth.hook", "the auth server calls no hooks"),
    (
        "auth.mfa",
        "the auth server has no multi-factor authentication",
    ),
    (
        "auth.sessions",
        "the auth server has no session time limits",
    ),
    ("auth.sms", "the auth server has no phone sign-in"),
    ("auth.external", "the auth server has no OAuth providers"),
    ("auth.web3", "the auth server has no Web3 sign-in"),
    (
        "auth.third_party",
        "the auth server accepts no third-party tokens",
    ),
    (
        "auth.oauth_server",
        "the auth server is not an OAuth server",
    ),
    ("auth.passkey", "the auth server has no passkeys"),
    ("auth.webauthn", "the auth server has no passkeys"),
    ("auth.email.smtp", "the auth server sends no email"),
    ("auth.email.template", "the auth server sends no email"),
    ("auth.email.notification", "the auth server sends no email"),
];

/// Keys the harness decides for itself whatever they say: it picks free ports, waits for its
/// servers its own way, and derives the rest from the values it reads.
const OWN_TERMS: &[&str] = &[
    "api.port",
    "api.external_url",
    "db.port",
    "db.shadow_port",
    "db.health_timeout",
    "db.password",
    "db.root_key",
    "auth.enabled",
    "api.enabled",
    "auth.external_url",
    "auth.jwt_issuer",
    "edge_runtime.inspector_port",
];

/// One warning for each key the loader did not use, except those that ask for nothing: keys in
/// a table switched off (`enabled = false`, or `enable_signup = false` for a sign-in method),
/// keys set to `false`, `""` or `[]` (every such key of the CLI's template turns something
/// off), and keys in [`OWN_TERMS`]. The keys of a component in [`COMPONENTS`] make one warning
/// for the whole table. A key under `[auth]` is one the auth server cannot honour.
fn ignored_warnings(doc: &ConfigDoc) -> Vec<Warning> {
    let mut warnings: Vec<Warning> = Vec::new();
    let mut reported_tables: Vec<&str> = Vec::new();
    for Leftover {
        key,
        position,
        value,
    } in doc.leftovers()
    {
        if OWN_TERMS.contains(&key.as_str())
            || asks_for_nothing(value)
            || in_switched_off_table(doc, &key)
        {
            continue;
        }
        let warning = |subject: String, message: String| Warning {
            path: doc.path().to_path_buf(),
            position: Some(position),
            subject,
            message,
        };
        if let Some((table, why)) = COMPONENTS.iter().find(|(table, _)| {
            key.strip_prefix(table)
                .is_some_and(|rest| rest.starts_with('.'))
        }) {
            if !reported_tables.contains(table) {
                reported_tables.push(table);
                warnings.push(warning(
                    (*table).to_owned(),
                    format!("[{table}] is ignored: {why}"),
                ));
            }
            continue;
        }
        let message = if key.starts_with("auth.") {
            format!("{key} is ignored: the auth server cannot honour it")
        } else {
            format!("{key} is ignored: the harness does not use it")
        };
        warnings.push(warning(key, message));
    }
    warnings
}

fn asks_for_nothing(value: &DeValue) -> bool {
    match value {
        DeValue::Boolean(flag) => !flag,
        DeValue::String(text) => text.is_empty(),
        DeValue::Array(items) => items.is_empty(),
        _ => false,
    }
}

/// Whether a table holding `key` says it is off.
fn in_switched_off_table(doc: &ConfigDoc, key: &str) -> bool {
    let mut table = key;
    while let Some((parent, _)) = table.rsplit_once('.') {
        // `enable_signup = false` switches off a sign-in method ([auth.email], [auth.sms]),
        // not the whole of [auth].
        let switches: &[&str] = if parent == "auth" {
            &["enabled"]
        } else {
            &["enabled", "enable_signup"]
        };
        for switch in switches {
            let switch_key = format!("{parent}.{switch}");
            // Read through the document so `SUPABASE_*` and env() apply, as to any key; a switch
            // that is not a boolean is reported by its own leftover warning.
            if doc.has(&switch_key) && matches!(doc.bool(&switch_key, true), Ok(false)) {
                return true;
            }
        }
        table = parent;
    }
    false
}
