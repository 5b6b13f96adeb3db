//! Free TCP ports on 127.0.0.1 for the stack's servers (see [`crate::process::port`]).

use super::StackError;

/// A port that was free a moment ago.
pub(crate) fn free_port() -> Result<u16, StackError> {
    crate::process::port::free_port()
        .map_err(|source| StackError::io("binding 127.0.0.1:0 to find a free port", source))
}
