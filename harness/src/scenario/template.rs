//! `{{ ... }}` placeholders in scenario strings.
//!
//! Templates are parsed when the scenario loads, so an unknown user, token kind or capture is an
//! error before any request is sent. Rendering yields two strings: what goes on the wire, and the
//! same text with every secret or run-specific value replaced by its name, for snapshots.

use std::fmt;
use std::str::FromStr;

use crate::signing::KeyTokenKind;

/// A string with placeholders, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Value(Placeholder),
}

/// What a `{{ ... }}` names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Placeholder {
    /// `{{alice.id}}`
    UserId(String),
    /// `{{alice.email}}`
    UserEmail(String),
    /// `{{alice.password}}`
    UserPassword(String),
    /// `{{alice.token.expired}}`
    Token(String, TokenKind),
    /// `{{keys.anon}}`
    AnonKey,
    /// `{{keys.service_role}}`
    ServiceRoleKey,
    /// `{{keys.publishable}}`: `sb_publishable_…` (not in the `legacy` profile).
    PublishableKey,
    /// `{{keys.secret}}`: `sb_secret_…` (not in the `legacy` profile).
    SecretKey,
    /// `{{issued.bad_signature}}`: GoTrue's words for a signature that does not verify under
    /// the algorithm it issues tokens with (the profile's: `crypto/ecdsa: verification error`
    /// for ES256, `signature is invalid` for HS256).
    IssuedBadSignature,
    /// `{{capture.session}}`: a value an earlier step captured.
    Capture(String),
    /// `{{repeat.16384.x}}`: `text` repeated `times` times, for oversized headers and bodies.
    Repeat { times: usize, text: String },
}

/// The tokens a scenario can present for a user, each failing (or not) for one reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// The access token the auth server issued at sign-in.
    Valid,
    /// Same claims, signed correctly, `exp` in the past.
    Expired,
    /// Same claims signed with another project's secret.
    WrongSecret,
    /// Same claims, `alg: none`, no signature.
    AlgNone,
    /// The valid token with its payload changed and the signature kept.
    Tampered,
    /// Signed correctly, but without a `sub` claim.
    NoSub,
    /// The refresh token issued at sign-in.
    Refresh,
    /// The access token of a session that has since logged out.
    LoggedOut,
    /// Signed correctly, `sub` is not a UUID.
    SubNotUuid,
    /// Signed correctly, `nbf` an hour in the future.
    NbfFuture,
    /// Signed correctly, `iat` an hour in the future (and `exp` after it).
    IatFuture,
    /// Signed correctly, with a 64 KiB padding claim.
    Huge,
    /// Header and payload segments that are not base64url.
    NotBase64,
    /// A base64url payload that is not JSON, signed correctly over the segments.
    NotJson,
    /// Signed with HS256 and the secret, with a `kid` no key has (GoTrue falls back to the
    /// secret for any HS256 kid).
    Hs256UnknownKid,
    /// `header.payload.` with the original `alg`: the signature removed.
    SignatureStripped,
    /// A token about the signing keys: `es256`, `revoked-key`, `unknown-kid`, `jku`, ... (see
    /// [`KeyTokenKind`]).
    Key(KeyTokenKind),
}

impl TokenKind {
    /// Every kind but the signing-key ones ([`KeyTokenKind::ALL`]).
    pub const ALL: [TokenKind; 16] = [
        TokenKind::Valid,
        TokenKind::Expired,
        TokenKind::WrongSecret,
        TokenKind::AlgNone,
        TokenKind::Tampered,
        TokenKind::NoSub,
        TokenKind::Refresh,
        TokenKind::LoggedOut,
        TokenKind::SubNotUuid,
        TokenKind::NbfFuture,
        TokenKind::IatFuture,
        TokenKind::Huge,
        TokenKind::NotBase64,
        TokenKind::NotJson,
        TokenKind::Hs256UnknownKid,
        TokenKind::SignatureStripped,
    ];

    /// Every kind's name, the signing-key kinds last.
    pub fn names() -> Vec<&'static str> {
        let keys = KeyTokenKind::ALL.map(KeyTokenKind::name);
        TokenKind::ALL
            .map(TokenKind::name)
            .into_iter()
            .chain(keys)
            .collect()
    }

    /// Whether the token is signed as the auth server signs what it issues (so its alg is the
    /// profile's), rather than with an alg of its own (`wrong-secret`, `alg-none`, the key
    /// kinds, ...). A snapshot names that alg's texts by placeholder only for these.
    pub fn signed_as_issued(self) -> bool {
        matches!(
            self,
            TokenKind::Valid
                | TokenKind::Expired
                | TokenKind::Tampered
                | TokenKind::NoSub
                | TokenKind::LoggedOut
                | TokenKind::SubNotUuid
                | TokenKind::NbfFuture
                | TokenKind::IatFuture
                | TokenKind::Huge
                | TokenKind::SignatureStripped
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            TokenKind::Valid => "valid",
            TokenKind::Expired => "expired",
            TokenKind::WrongSecret => "wrong-secret",
            TokenKind::AlgNone => "alg-none",
            TokenKind::Tampered => "tampered",
            TokenKind::NoSub => "no-sub",
            TokenKind::Refresh => "refresh",
            TokenKind::LoggedOut => "logged-out",
            TokenKind::SubNotUuid => "sub-not-uuid",
            TokenKind::NbfFuture => "nbf-future",
            TokenKind::IatFuture => "iat-future",
            TokenKind::Huge => "huge",
            TokenKind::NotBase64 => "not-base64",
            TokenKind::NotJson => "not-json",
            TokenKind::Hs256UnknownKid => "hs256-unknown-kid",
            TokenKind::SignatureStripped => "signature-stripped",
            TokenKind::Key(kind) => kind.name(),
        }
    }
}

impl FromStr for TokenKind {
    type Err = ();
    fn from_str(name: &str) -> Result<Self, ()> {
        TokenKind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .or_else(|| name.parse().ok().map(TokenKind::Key))
            .ok_or(())
    }
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Placeholder {
    /// The redacted form shown in snapshots: the placeholder's own name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Placeholder::UserId(user) => write!(f, "{user}.id"),
            Placeholder::UserEmail(user) => write!(f, "{user}.email"),
            Placeholder::UserPassword(user) => write!(f, "{user}.password"),
            Placeholder::Token(user, kind) => write!(f, "{user}.token.{kind}"),
            Placeholder::AnonKey => f.write_str("keys.anon"),
            Placeholder::ServiceRoleKey => f.write_str("keys.service_role"),
            Placeholder::PublishableKey => f.write_str("keys.publishable"),
            Placeholder::SecretKey => f.write_str("keys.secret"),
            Placeholder::IssuedBadSignature => f.write_str("issued.bad_signature"),
            Placeholder::Capture(name) => write!(f, "capture.{name}"),
            Placeholder::Repeat { times, text } => write!(f, "repeat.{times}.{text}"),
        }
    }
}

/// Why a template did not parse; `offset` is a byte offset into the template text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    pub offset: usize,
    pub message: String,
}

impl Template {
    /// Parses `text`; placeholders are checked for shape here, names against the scenario later.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        let mut offset = 0;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_owned()));
            }
            let inner_start = start + 2;
            let Some(len) = rest[inner_start..].find("}}") else {
                return Err(TemplateError {
                    offset: offset + start,
                    message: "unclosed `{{`: expected `}}`".into(),
                });
            };
            let expr = rest[inner_start..inner_start + len].trim();
            let placeholder = parse_placeholder(expr).map_err(|message| TemplateError {
                offset: offset + start,
                message,
            })?;
            parts.push(Part::Value(placeholder));
            let consumed = inner_start + len + 2;
            offset += consumed;
            rest = &rest[consumed..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Template { parts })
    }

    /// The placeholders in order of appearance.
    pub fn placeholders(&self) -> impl Iterator<Item = &Placeholder> {
        self.parts.iter().filter_map(|part| match part {
            Part::Value(placeholder) => Some(placeholder),
            Part::Text(_) => None,
        })
    }

    /// Fills the placeholders: `actual` is sent, `redacted` has `[name]` for every value.
    pub fn render<E>(
        &self,
        mut value_of: impl FnMut(&Placeholder) -> Result<String, E>,
    ) -> Result<Rendered, E> {
        let mut rendered = Rendered::default();
        for part in &self.parts {
            match part {
                Part::Text(text) => {
                    rendered.actual.push_str(text);
                    rendered.redacted.push_str(text);
                }
                Part::Value(placeholder) => {
                    rendered.actual.push_str(&value_of(placeholder)?);
                    rendered.redacted.push_str(&format!("[{placeholder}]"));
                }
            }
        }
        Ok(rendered)
    }
}

/// A rendered template: the real text and its snapshot-safe twin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    pub actual: String,
    pub redacted: String,
}

fn parse_placeholder(expr: &str) -> Result<Placeholder, String> {
    let segments: Vec<&str> = expr.split('.').collect();
    let unknown = || {
        format!(
            "unknown placeholder `{{{{{expr}}}}}`: expected USER.id, USER.email, USER.password, \
             USER.token.KIND, keys.anon, keys.service_role, keys.publishable, keys.secret, \
             issued.bad_signature, capture.NAME or repeat.TIMES.TEXT"
        )
    };
    match segments.as_slice() {
        ["keys", "anon"] => Ok(Placeholder::AnonKey),
        ["keys", "service_role"] => Ok(Placeholder::ServiceRoleKey),
        ["keys", "publishable"] => Ok(Placeholder::PublishableKey),
        ["keys", "secret"] => Ok(Placeholder::SecretKey),
        ["issued", "bad_signature"] => Ok(Placeholder::IssuedBadSignature),
        ["keys", _] => Err(unknown()),
        ["repeat", times, text] if !text.is_empty() => match times.parse::<usize>() {
            Ok(times) if (1..=MAX_REPEAT).contains(&times) => Ok(Placeholder::Repeat {
                times,
                text: (*text).to_owned(),
            }),
            _ => Err(format!(
                "`repeat.{times}`: the count must be a number from 1 to {MAX_REPEAT}"
            )),
        },
        ["capture", name] if is_name(name) => Ok(Placeholder::Capture((*name).to_owned())),
        [user, "id"] if is_name(user) => Ok(Placeholder::UserId((*user).to_owned())),
        [user, "email"] if is_name(user) => Ok(Placeholder::UserEmail((*user).to_owned())),
        [user, "password"] if is_name(user) => Ok(Placeholder::UserPassword((*user).to_owned())),
        [user, "token", kind] if is_name(user) => {
            let kind = kind.parse().map_err(|()| {
                let known = TokenKind::names();
                format!(
                    "unknown token kind `{kind}`: expected one of {}",
                    known.join(", ")
                )
            })?;
            Ok(Placeholder::Token((*user).to_owned(), kind))
        }
        _ => Err(unknown()),
    }
}

/// Enough for any header or body limit worth testing, small enough to never exhaust memory.
const MAX_REPEAT: usize = 1 << 20;

fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
#[path = "template_tests.rs"]
mod tests;
