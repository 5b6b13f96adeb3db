//! What a replay may do with a target's keys: read them (to mint tokens and name kids in
//! snapshots), rotate them (a scenario's `keys` steps) and put them back before the next
//! scenario. The stack implements it by restarting its auth server and reconfiguring its data
//! API; a service the harness does not run gets [`FixedKeys`], which cannot rotate.

use std::future::Future;
use std::pin::Pin;

use super::action::KeyAction;
use super::profile::ProjectKeys;

/// A boxed future, as [`KeyControl`]'s methods return them (the trait is used as `dyn`).
pub type KeyFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, String>> + Send + 'a>>;

/// A target's keys, as a replay sees and changes them.
pub trait KeyControl: Send + Sync {
    /// The keys now, rotations included.
    fn current(&self) -> ProjectKeys;

    /// Applies one rotation step everywhere it matters (auth server, data API); the kid it
    /// acted on, or why it could not.
    fn apply<'a>(&'a self, action: &'a KeyAction) -> KeyFuture<'a, String>;

    /// The keys the target started with, and verifiers that have cached none of them (a
    /// freshly started service): what every scenario starts from.
    fn reset(&self) -> KeyFuture<'_, ()>;
}

/// The keys of a target the harness does not run: known, never rotated.
#[derive(Debug, Clone)]
pub struct FixedKeys(pub ProjectKeys);

impl KeyControl for FixedKeys {
    fn current(&self) -> ProjectKeys {
        self.0.clone()
    }

    fn apply<'a>(&'a self, action: &'a KeyAction) -> KeyFuture<'a, String> {
        Box::pin(async move {
            Err(format!(
                "cannot {action}: this target's keys are not the harness's to rotate (it runs \
                 against a service and stack started elsewhere); replay the scenario against \
                 the harness's own stack"
            ))
        })
    }

    fn reset(&self) -> KeyFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }
}
