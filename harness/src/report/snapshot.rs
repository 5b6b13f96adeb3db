//! A scenario's exchanges as one reviewable text, stored as an insta snapshot in `snapshots/`.
//!
//! `cargo test` asserts these with insta itself; the `harness` CLI reads and writes the same
//! files (`.snap`, and `.snap.new` for `cargo insta review`), so both agree byte for byte.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::run::{ScenarioReport, StepReport};

/// The snapshot text of one replay.
pub fn render(report: &ScenarioReport) -> String {
    let mut text = String::new();
    if let Some(reason) = &report.skipped {
        writeln!(text, "skipped: {reason}").unwrap();
    }
    if let Some(error) = &report.setup_error {
        writeln!(text, "setup failed: {error}").unwrap();
    }
    if let Some(timeouts) = &report.timeouts {
        writeln!(text, "timeouts: {timeouts}\n").unwrap();
    }
    for (index, step) in report.steps.iter().enumerate() {
        if index > 0 {
            text.push('\n');
        }
        render_step(&mut text, index + 1, step);
    }
    if !report.invariants.is_empty() {
        // Counts and causes only: timings vary from run to run.
        text.push_str("\n## invariants\n");
        for invariant in &report.invariants {
            writeln!(
                text,
                "{}: {} ({})",
                invariant.name,
                invariant.outcome.word(),
                invariant.detail
            )
            .unwrap();
        }
    }
    text
}

fn render_step(text: &mut String, number: usize, step: &StepReport) {
    writeln!(text, "## {number}. {}", step.name).unwrap();
    for action in &step.actions {
        writeln!(text, "~ {action}").unwrap();
    }
    let Some(exchange) = &step.exchange else {
        return;
    };
    let request = &exchange.request;
    writeln!(text, "{} {}", request.method, request.url).unwrap();
    for (name, value) in &request.headers {
        writeln!(text, "{name}: {value}").unwrap();
    }
    if let Some(body) = &request.body {
        writeln!(text, "\n{body}").unwrap();
    }
    match &exchange.response {
        Ok(response) => {
            writeln!(text, "\n→ {}", response.status).unwrap();
            for (name, value) in &response.headers {
                writeln!(text, "{name}: {value}").unwrap();
            }
            if !response.body.is_empty() {
                writeln!(text, "\n{}", response.body.trim_end()).unwrap();
            }
        }
        Err(error) => writeln!(text, "\n→ no response: {error}").unwrap(),
    }
    for (title, lines) in [
        ("server log", &step.logs),
        ("service log", &step.service_logs),
    ] {
        if !lines.is_empty() {
            writeln!(text, "\n{title}:").unwrap();
            for line in lines {
                writeln!(text, "  {line}").unwrap();
            }
        }
    }
}

/// How a replay compares with its stored snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Comparison {
    Matches,
    /// No snapshot yet: a new scenario.
    Missing,
    /// A unified diff from the stored snapshot to this replay.
    Changed(String),
}

/// The `snapshots/` directory.
#[derive(Debug, Clone)]
pub struct SnapshotStore {
    dir: PathBuf,
}

/// insta's header for the snapshots `cargo test` writes; the CLI writes the same.
const SOURCE: &str = "harness/tests/scenarios.rs";

impl SnapshotStore {
    pub fn new(dir: impl Into<PathBuf>) -> SnapshotStore {
        SnapshotStore { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self, scenario: &str) -> PathBuf {
        self.dir.join(format!("{scenario}.snap"))
    }

    /// The stored snapshot's contents, without insta's header.
    pub fn read(&self, scenario: &str) -> std::io::Result<Option<String>> {
        match std::fs::read_to_string(self.path(scenario)) {
            Ok(file) => Ok(Some(contents_of(&file).to_owned())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }

    pub fn compare(&self, scenario: &str, replayed: &str) -> std::io::Result<Comparison> {
        Ok(match self.read(scenario)? {
            None => Comparison::Missing,
            Some(stored) if normalize(&stored) == normalize(replayed) => Comparison::Matches,
            Some(stored) => Comparison::Changed(diff(&stored, replayed)),
        })
    }

    /// Writes `scenario.snap.new`, which `cargo insta review` offers for acceptance.
    pub fn write_pending(&self, scenario: &str, replayed: &str) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(&self.dir)?;
        let path = self.dir.join(format!("{scenario}.snap.new"));
        std::fs::write(
            &path,
            format!("---\nsource: {SOURCE}\n---\n{}\n", normalize(replayed)),
        )?;
        Ok(path)
    }
}

/// The part of an insta file after its `---` header.
fn contents_of(file: &str) -> &str {
    let Some(rest) = file.strip_prefix("---\n") else {
        return file;
    };
    match rest.find("\n---\n") {
        Some(end) => &rest[end + 5..],
        None => file,
    }
}

/// insta ignores trailing whitespace at the end and line-ending differences; so do we.
fn normalize(text: &str) -> String {
    text.replace("\r\n", "\n").trim_end().to_owned()
}

fn diff(stored: &str, replayed: &str) -> String {
    let (stored, replayed) = (normalize(stored), normalize(replayed));
    similar::TextDiff::from_lines(&stored, &replayed)
        .unified_diff()
        .context_radius(3)
        .header("snapshot", "replay")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_contents_after_the_insta_header() {
        let file =
            "---\nsource: harness/tests/scenarios.rs\nexpression: x\n---\n## 1. step\nGET /\n";
        assert_eq!(contents_of(file), "## 1. step\nGET /\n");
    }

    #[test]
    fn compares_ignoring_trailing_whitespace_and_shows_what_changed() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::new(dir.path());
        assert_eq!(store.compare("s", "a\n").unwrap(), Comparison::Missing);
        std::fs::write(store.path("s"), "---\nsource: x\n---\n→ 401\nbody\n").unwrap();
        assert_eq!(
            store.compare("s", "→ 401\nbody\n\n").unwrap(),
            Comparison::Matches
        );
        let Comparison::Changed(diff) = store.compare("s", "→ 500\nbody").unwrap() else {
            panic!("changed")
        };
        assert!(diff.contains("-→ 401\n+→ 500\n"), "{diff}");
    }

    #[test]
    fn pending_snapshots_are_what_insta_review_reads() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::new(dir.path());
        let path = store.write_pending("s", "→ 200\n").unwrap();
        assert!(path.ends_with("s.snap.new"));
        let file = std::fs::read_to_string(path).unwrap();
        assert_eq!(
            file,
            "---\nsource: harness/tests/scenarios.rs\n---\n→ 200\n"
        );
        assert_eq!(contents_of(&file), "→ 200\n");
    }
}
