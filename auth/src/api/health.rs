//! The unauthenticated discovery endpoints: /health, /settings and the JWKS.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;

use super::AppState;

/// GoTrue's HealthCheckResponse, in its field order.
#[derive(Serialize)]
struct Health {
    version: &'static str,
    name: &'static str,
    description: &'static str,
}

pub async fn health() -> impl IntoResponse {
    Json(Health {
        version: concat!("v", env!("CARGO_PKG_VERSION")),
        name: "GoTrue",
        description: "GoTrue is a user registration and authentication API",
    })
}

/// `external` in GoTrue's field order (api.ProviderSettings); only email, phone and anonymous
/// can be on here, as no OAuth provider is implemented.
#[derive(Serialize, Default)]
struct ProviderSettings {
    anonymous_users: bool,
    apple: bool,
    azure: bool,
    bitbucket: bool,
    discord: bool,
    facebook: bool,
    snapchat: bool,
    figma: bool,
    fly: bool,
    github: bool,
    gitlab: bool,
    google: bool,
    keycloak: bool,
    kakao: bool,
    linkedin: bool,
    linkedin_oidc: bool,
    notion: bool,
    spotify: bool,
    slack: bool,
    slack_oidc: bool,
    workos: bool,
    twitch: bool,
    twitter: bool,
    email: bool,
    phone: bool,
    zoom: bool,
}

#[derive(Serialize)]
struct Settings {
    external: ProviderSettings,
    disable_signup: bool,
    mailer_autoconfirm: bool,
    phone_autoconfirm: bool,
    sms_provider: &'static str,
    saml_enabled: bool,
    passkeys_enabled: bool,
    saml_private_key_next_configured: bool,
}

pub async fn settings(State(state): State<AppState>) -> impl IntoResponse {
    let c = &state.config;
    Json(Settings {
        external: ProviderSettings {
            anonymous_users: c.anonymous_users_enabled,
            email: c.external_email_enabled,
            phone: c.external_phone_enabled,
            ..Default::default()
        },
        disable_signup: c.disable_signup,
        mailer_autoconfirm: c.mailer_autoconfirm,
        phone_autoconfirm: false,
        sms_provider: "",
        saml_enabled: false,
        passkeys_enabled: false,
        saml_private_key_next_configured: false,
    })
}

/// The public keys of `GOTRUE_JWT_KEYS`; HMAC keys are never published, so a secret-only setup
/// answers `{"keys":[]}`.
pub async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "public, max-age=600")],
        Json(state.config.jwt_keys.jwks()),
    )
}
