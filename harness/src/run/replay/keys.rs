//! A replay's dealings with the target's signing keys: naming kids in snapshots, applying a
//! step's rotation, and naming the profile's algorithm where an exchange shows it.

use super::Replay;
use crate::report::redact::Redactor;
use crate::scenario::{Placeholder, Step, TokenKind};
use crate::signing::{KeyAction, ProjectKeys};

impl Replay<'_> {
    /// Applies a step's rotation: the snapshot's `~ keys: …` line, or it and the failure.
    pub(super) async fn rotate(&mut self, action: &KeyAction) -> Result<String, (String, String)> {
        let keys = &self.runner.targets.keys;
        let imports = keys.current().key_set().is_empty();
        let kid = keys
            .apply(action)
            .await
            .map_err(|error| (format!("keys: {action}"), format!("keys: {error}")))?;
        let now = keys.current();
        know_kids(&mut self.redactor, &now);
        let mut line = format!("keys: {action} → {}", self.redactor.text(&kid));
        if let (true, Some((secret, _))) = (imports, now.key_set().all().next()) {
            let secret = self.redactor.text(secret.kid());
            line.push_str(&format!(" (first the JWT secret, imported as {secret})"));
        }
        Ok(line)
    }

    /// What a step's exchange says in the words of the profile's algorithm, when its tokens
    /// are all signed as issued: then `crypto/ecdsa: verification error` (cli) and `signature is
    /// invalid` (legacy) are one placeholder, and the snapshot is the same for both profiles.
    pub(super) fn issued_alg_texts(&self, step: &Step) -> Vec<(String, String)> {
        let kinds: Vec<TokenKind> = step
            .placeholders()
            .into_iter()
            .filter_map(|placeholder| match placeholder {
                Placeholder::Token(_, kind) if kind != TokenKind::Refresh => Some(kind),
                _ => None,
            })
            .collect();
        if kinds.is_empty() || !kinds.iter().all(|kind| kind.signed_as_issued()) {
            return Vec::new();
        }
        // GoTrue's whole phrase: "signature is invalid" alone is also its first half.
        let phrase = |text: &str| format!("token signature is invalid: {text}");
        let keys = self.runner.targets.keys.current();
        vec![(
            phrase(keys.issued_bad_signature()),
            phrase(&format!("[{}]", Placeholder::IssuedBadSignature)),
        )]
    }
}

/// Names every key of `keys` by its place in the set (`kid-1` is the profile's first), with
/// its public numbers, so snapshots of generated keys are stable.
pub(super) fn know_kids(redactor: &mut Redactor, keys: &ProjectKeys) {
    for (index, (jwk, _)) in keys.key_set().all().enumerate() {
        let name = format!("kid-{}", index + 1);
        if jwk.kid().is_empty() {
            continue;
        }
        redactor.know(jwk.kid(), name.clone());
        for (part, value) in [("x", &jwk.x), ("y", &jwk.y), ("n", &jwk.n)] {
            if let Some(value) = value {
                redactor.know(value, format!("{name}.{part}"));
            }
        }
    }
}
