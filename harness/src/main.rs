//! The `harness` command line. `harness up` boots a stack in the foreground; the hidden
//! `harness auth-server` is the auth server a stack runs as its child.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    // The auth server builds its own runtime, so it is dispatched before clap or tokio start.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|arg| arg == cli::AUTH_SERVER)
    {
        return auth::main_from_env();
    }
    cli::run()
}
