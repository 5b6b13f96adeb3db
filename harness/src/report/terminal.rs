//! The table `harness run` prints, with what changed under each failure.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};

use super::ScenarioOutcome;
use super::snapshot::Comparison;

const OK: Style = AnsiColor::Green.on_default().bold();
const SKIPPED: Style = AnsiColor::Yellow.on_default().bold();
const FAILED: Style = AnsiColor::Red.on_default().bold();
const REMOVED: Style = AnsiColor::Red.on_default();
const ADDED: Style = AnsiColor::Green.on_default();

/// The summary table, then the details of every failure. Styled with ANSI codes: print it
/// through `anstream`, which drops them where the terminal (or CI) has no colour.
pub fn summary(outcomes: &[ScenarioOutcome]) -> String {
    let width = outcomes
        .iter()
        .map(|outcome| outcome.report.name.len())
        .max()
        .unwrap_or(8)
        .max(8);
    let mut text = String::new();
    writeln!(
        text,
        "{:width$}  {:>5}  {:7}  {:>7}",
        "scenario", "steps", "result", "time"
    )
    .unwrap();
    for outcome in outcomes {
        let (style, word) = if outcome.report.skipped.is_some() {
            (SKIPPED, "SKIPPED")
        } else if outcome.passed() {
            (OK, "ok")
        } else {
            (FAILED, "FAILED")
        };
        writeln!(
            text,
            "{:width$}  {:>5}  {style}{word:7}{style:#}  {:>6.2}s",
            outcome.report.name,
            outcome.report.steps.len(),
            outcome.report.elapsed.as_secs_f64()
        )
        .unwrap();
        if let Some(reason) = &outcome.report.skipped {
            writeln!(text, "  {reason}").unwrap();
        }
        if let Some(summary) = outcome.report.invariants_summary() {
            writeln!(text, "  {summary}").unwrap();
        }
        for invariant in &outcome.report.invariants {
            if invariant.outcome == crate::run::Outcome::Ambiguous {
                for finding in &invariant.findings {
                    writeln!(text, "  {finding}").unwrap();
                }
            }
        }
    }
    for outcome in outcomes.iter().filter(|outcome| !outcome.passed()) {
        text.push('\n');
        failure(&mut text, outcome);
    }
    let failed = outcomes.iter().filter(|outcome| !outcome.passed()).count();
    let skipped = outcomes
        .iter()
        .filter(|outcome| outcome.report.skipped.is_some())
        .count();
    write!(
        text,
        "\n{} passed, {failed} failed",
        outcomes.len() - failed - skipped
    )
    .unwrap();
    if skipped > 0 {
        write!(text, ", {skipped} skipped").unwrap();
    }
    text.push('\n');
    text
}

fn failure(text: &mut String, outcome: &ScenarioOutcome) {
    let report = &outcome.report;
    writeln!(text, "{FAILED}FAILED{FAILED:#} {}", report.name).unwrap();
    for failure in report.failures() {
        writeln!(text, "  {failure}").unwrap();
    }
    match &outcome.snapshot {
        Comparison::Matches => {}
        Comparison::Missing => writeln!(
            text,
            "  no snapshot yet: run with --update, then `cargo insta review`"
        )
        .unwrap(),
        Comparison::Changed(diff) => {
            writeln!(text, "  the replay differs from the snapshot:").unwrap();
            for line in diff.lines() {
                let style = match line.as_bytes().first() {
                    Some(b'-') if !line.starts_with("---") => REMOVED,
                    Some(b'+') if !line.starts_with("+++") => ADDED,
                    _ => Style::new(),
                };
                writeln!(text, "    {style}{line}{style:#}").unwrap();
            }
        }
    }
}
