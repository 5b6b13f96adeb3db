fn main() -> std::process::ExitCode {
    auth::main_from_env()
}
