//! The `harness` command line. `harness up` boots a stack in the foreground; the hidden
//! `harness auth-server` and `harness rest-server` are the auth server and the data API a stack
//! runs as its children.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    // The servers build their own runtimes, so they are dispatched before clap or tokio start.
    match std::env::args_os().nth(1) {
        Some(arg) if arg == cli::AUTH_SERVER => return auth::main_from_env(),
        Some(arg) if arg == cli::REST_SERVER => return rest::main_from_env(),
        _ => {}
    }
    cli::run()
}
