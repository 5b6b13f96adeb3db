//! The service's log lines, per request id, for snapshots and `harness show`.
//!
//! The service runs in-process and logs through `tracing`, every event inside a span carrying
//! `request_id`. [`LogBook`] is a tracing layer that files each event's text under that id, so
//! the runner can show the server's side of each exchange, as the debrief's diagnostic logging did.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::sync::{Arc, LazyLock, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::run::LogSource;

/// Requests whose lines are kept; older ones are forgotten so a long run stays bounded.
const REQUESTS_KEPT: usize = 10_000;

/// The book every in-process stage logs into (request ids are UUIDs, so one book serves all).
static GLOBAL: LazyLock<LogBook> = LazyLock::new(LogBook::default);

/// Installs the process's tracing subscriber: the global [`LogBook`] for the service's events,
/// and human-readable logs on stderr filtered by `env_var` (e.g. `RUST_LOG`, or `TEST_LOG` in
/// tests so a test run stays quiet unless asked), falling back to `default_filter`.
/// Calling it again is harmless: the first subscriber stays.
pub fn install(env_var: &str, default_filter: &str) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{EnvFilter, Layer, filter::Targets};

    let stderr_filter = std::env::var(env_var)
        .ok()
        .and_then(|filter| EnvFilter::try_new(filter).ok())
        .unwrap_or_else(|| EnvFilter::new(default_filter));
    // Only the service's own events: they say what it decided. Framework events carry latencies,
    // which would make snapshots change from run to run.
    let book_filter = Targets::new().with_target("service", tracing::Level::DEBUG);
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .with_filter(stderr_filter),
        )
        .with(LogBook::global().with_filter(book_filter))
        .try_init();
}

/// Log lines filed by request id. Cheap to clone; all clones share the same book.
#[derive(Clone, Default)]
pub struct LogBook {
    inner: Arc<Mutex<Book>>,
}

#[derive(Default)]
struct Book {
    lines: HashMap<String, Vec<String>>,
    order: VecDeque<String>,
}

impl LogBook {
    /// The book [`install`] fills.
    pub fn global() -> LogBook {
        GLOBAL.clone()
    }

    fn file(&self, request_id: &str, line: String) {
        let mut book = self.inner.lock().expect("log book lock");
        if !book.lines.contains_key(request_id) {
            book.order.push_back(request_id.to_owned());
            if book.order.len() > REQUESTS_KEPT
                && let Some(oldest) = book.order.pop_front() {
                    book.lines.remove(&oldest);
                }
        }
        book.lines
            .entry(request_id.to_owned())
            .or_default()
            .push(line);
    }
}

impl LogSource for LogBook {
    fn lines(&self, request_id: &str) -> Vec<String> {
        let book = self.inner.lock().expect("log book lock");
        book.lines.get(request_id).cloned().unwrap_or_default()
    }
}

/// The request id a span carries, kept in the span's extensions.
struct RequestId(String);

impl<S> tracing_subscriber::Layer<S> for LogBook
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut visitor = RequestIdVisitor(None);
        attrs.record(&mut visitor);
        if let (Some(request_id), Some(span)) = (visitor.0, ctx.span(id)) {
            span.extensions_mut().insert(RequestId(request_id));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let Some(scope) = ctx.event_scope(event) else {
            return;
        };
        let request_id = scope
            .from_root()
            .find_map(|span| span.extensions().get::<RequestId>().map(|id| id.0.clone()));
        let Some(request_id) = request_id else { return };
        let metadata = event.metadata();
        let mut line = format!("{} {}:", metadata.level(), metadata.target());
        event.record(&mut LineVisitor(&mut line));
        self.file(&request_id, line);
    }
}

struct RequestIdVisitor(Option<String>);

impl Visit for RequestIdVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "request_id" {
            self.0 = Some(value.to_owned());
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "request_id" {
            self.0 = Some(format!("{value:?}").trim_matches('"').to_owned());
        }
    }
}

/// Writes `message` first, then `key=value` for every other field.
struct LineVisitor<'a>(&'a mut String);

impl Visit for LineVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            write!(self.0, " {value}").unwrap();
        } else {
            write!(self.0, " {}={value:?}", field.name()).unwrap();
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            write!(self.0, " {value:?}").unwrap();
        } else {
            write!(self.0, " {}={value:?}", field.name()).unwrap();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn events_are_filed_under_their_request_id() {
        let book = LogBook::default();
        let subscriber = tracing_subscriber::registry().with(book.clone());
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request", request_id = "req-1", method = "POST");
            let _entered = span.enter();
            tracing::warn!(user_id = "u", "insert refused");
            let inner = tracing::info_span!("db");
            inner.in_scope(|| tracing::error!("rls"));
            drop(_entered);
            tracing::info!("outside any request");
        });
        assert_eq!(
            book.lines("req-1"),
            [
                "WARN harness::logs::tests: insert refused user_id=\"u\"",
                "ERROR harness::logs::tests: rls"
            ]
        );
        assert!(book.lines("req-2").is_empty());
    }
}
