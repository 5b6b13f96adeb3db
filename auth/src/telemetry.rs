//! Logging to stderr, as JSON (GoTrue's logrus default) or text, at GOTRUE_LOG_LEVEL.

use tracing_subscriber::EnvFilter;

pub fn init(level: &str, format: &str) {
    // logrus names ("warning", "panic", "fatal") mapped to tracing's.
    let level = match level.to_ascii_lowercase().as_str() {
        "warning" => "warn".to_owned(),
        "panic" | "fatal" => "error".to_owned(),
        other => other.to_owned(),
    };
    let filter = EnvFilter::try_new(&level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false);
    let _ = if format.eq_ignore_ascii_case("text") {
        builder.try_init()
    } else {
        builder.json().try_init()
    };
}
