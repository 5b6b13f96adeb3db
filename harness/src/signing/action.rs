//! One rotation step, as a scenario names it (`{ add_standby = "ES256" }`, `{ promote =
//! "standby" }`, `{ revoke = "previous" }`) and as the library applies it to a [`KeySet`].
//!
//! Scenarios cannot know the kids of keys made while they run, so a step names a key by its
//! state ([`KeySelector`]); a literal kid works too (the CLI's, or a signing-keys file's).

use std::fmt;

use super::SigningError;
use super::jwk::KeyAlgorithm;
use super::rotation::{KeySet, KeyState};

/// A rotation step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyAction {
    /// A new key, published but not signing.
    AddStandby(KeyAlgorithm),
    /// The selected standby key signs from now on; the key in use becomes previously used.
    Promote(KeySelector),
    /// The selected previously used key is no longer trusted anywhere.
    Revoke(KeySelector),
}

/// Which key a step means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySelector {
    /// `standby`: the newest standby key.
    Standby,
    /// `previous`: the key that most recently stopped signing.
    Previous,
    /// Any other text: the key with this kid.
    Kid(String),
}

impl KeySelector {
    /// `standby`, `previous`, or a kid.
    pub fn parse(text: &str) -> KeySelector {
        match text {
            "standby" => KeySelector::Standby,
            "previous" => KeySelector::Previous,
            kid => KeySelector::Kid(kid.to_owned()),
        }
    }

    /// The kid this selects in `keys`.
    pub fn kid_in(&self, keys: &KeySet) -> Result<String, SigningError> {
        let newest = |state| {
            keys.in_state(state)
                .last()
                .map(|key| key.kid().to_owned())
                .ok_or(SigningError::NoKey(state))
        };
        match self {
            KeySelector::Standby => newest(KeyState::Standby),
            KeySelector::Previous => keys
                .most_recently_demoted()
                .map(str::to_owned)
                .ok_or(SigningError::NoKey(KeyState::PreviouslyUsed)),
            KeySelector::Kid(kid) => Ok(kid.clone()),
        }
    }
}

impl fmt::Display for KeySelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySelector::Standby => f.write_str("standby"),
            KeySelector::Previous => f.write_str("previous"),
            KeySelector::Kid(kid) => f.write_str(kid),
        }
    }
}

impl KeyAction {
    /// The scenario key of each action, in the order the README lists them.
    pub const NAMES: [&'static str; 3] = ["add_standby", "promote", "revoke"];

    /// Applies the step to `keys`; returns the kid it added, promoted or revoked.
    ///
    /// ```
    /// use harness::signing::{CLI_KID, KeyAction, KeyAlgorithm, KeySelector, KeySet, SigningJwk};
    /// let mut keys = KeySet::new(SigningJwk::cli_default());
    /// let added = keys.apply(&KeyAction::AddStandby(KeyAlgorithm::Es256))?;
    /// assert_eq!(keys.apply(&KeyAction::Promote(KeySelector::Standby))?, added);
    /// assert_eq!(keys.apply(&KeyAction::Revoke(KeySelector::Previous))?, CLI_KID);
    /// # Ok::<(), harness::signing::SigningError>(())
    /// ```
    pub fn apply_to(&self, keys: &mut KeySet) -> Result<String, SigningError> {
        match self {
            KeyAction::AddStandby(alg) => keys.add_standby(*alg),
            KeyAction::Promote(which) => {
                let kid = which.kid_in(keys)?;
                keys.promote(&kid)?;
                Ok(kid)
            }
            KeyAction::Revoke(which) => {
                let kid = which.kid_in(keys)?;
                keys.revoke(&kid)?;
                Ok(kid)
            }
        }
    }
}

impl fmt::Display for KeyAction {
    /// `add standby ES256`, `promote standby`, `revoke previous`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyAction::AddStandby(alg) => write!(f, "add standby {}", alg.name()),
            KeyAction::Promote(which) => write!(f, "promote {which}"),
            KeyAction::Revoke(which) => write!(f, "revoke {which}"),
        }
    }
}

impl KeySet {
    /// Applies one rotation step (see [`KeyAction::apply_to`]); returns the kid it acted on.
    pub fn apply(&mut self, action: &KeyAction) -> Result<String, SigningError> {
        action.apply_to(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::{CLI_KID, SigningJwk};

    #[test]
    fn selectors_find_the_newest_standby_and_the_last_demoted_key() {
        let mut keys = KeySet::new(SigningJwk::cli_default());
        assert!(matches!(
            KeySelector::Standby.kid_in(&keys),
            Err(SigningError::NoKey(KeyState::Standby))
        ));
        let first = keys
            .apply(&KeyAction::AddStandby(KeyAlgorithm::Es256))
            .unwrap();
        let second = keys
            .apply(&KeyAction::AddStandby(KeyAlgorithm::Es256))
            .unwrap();
        assert_eq!(KeySelector::Standby.kid_in(&keys).unwrap(), second);
        keys.apply(&KeyAction::Promote(KeySelector::Kid(first.clone())))
            .unwrap();
        assert_eq!(KeySelector::Previous.kid_in(&keys).unwrap(), CLI_KID);
        keys.apply(&KeyAction::Promote(KeySelector::Standby))
            .unwrap();
        assert_eq!(
            KeySelector::Previous.kid_in(&keys).unwrap(),
            first,
            "the key demoted last, not the oldest"
        );
        assert_eq!(
            keys.apply(&KeyAction::Revoke(KeySelector::Previous))
                .unwrap(),
            first
        );
        assert_eq!(KeySelector::Previous.kid_in(&keys).unwrap(), CLI_KID);
    }

    #[test]
    fn a_step_in_the_wrong_state_is_refused_and_changes_nothing() {
        let mut keys = KeySet::new(SigningJwk::cli_default());
        let error = keys
            .apply(&KeyAction::Revoke(KeySelector::Kid(CLI_KID.into())))
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "cannot revoke key \"{CLI_KID}\": it is in use, only a previously used key can be"
            )
        );
        assert_eq!(keys.state(CLI_KID), Some(KeyState::InUse));
    }

    #[test]
    fn actions_read_as_the_snapshot_shows_them() {
        assert_eq!(
            KeyAction::AddStandby(KeyAlgorithm::Rs256).to_string(),
            "add standby RS256"
        );
        assert_eq!(
            KeyAction::Promote(KeySelector::parse("standby")).to_string(),
            "promote standby"
        );
        assert_eq!(
            KeyAction::Revoke(KeySelector::parse("previous")).to_string(),
            "revoke previous"
        );
    }
}
