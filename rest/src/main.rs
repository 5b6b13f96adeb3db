//! The `rest` binary: a drop-in for the `postgrest/postgrest` image, configured by the same
//! `PGRST_*` environment variables.

fn main() -> std::process::ExitCode {
    rest::main_from_env()
}
