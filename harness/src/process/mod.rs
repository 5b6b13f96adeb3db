//! Child processes that never outlive the harness, shared by the stack's servers and the
//! project's own service.
//!
//! Both need the same three guarantees: the kernel kills a child when the harness dies
//! (`PR_SET_PDEATHSIG`, set from one long-lived thread, see [`spawn_guarded`]), a child's whole
//! family can be found and signalled ([`tree`]), and a port can be checked for who holds it
//! ([`port`]). What each owner does with them (a stop signal, a grace period, a restart) stays
//! with the owner.

pub(crate) mod port;
mod spawn;
pub(crate) mod tree;

pub(crate) use spawn::spawn_guarded;
