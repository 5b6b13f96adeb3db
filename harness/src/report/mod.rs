//! Reports over replay results: snapshots, the terminal table, JUnit XML.
//!
//! Each is a separate writer over [`ScenarioOutcome`]s; adding a format touches no runner code.

pub mod junit;
pub mod redact;
pub mod snapshot;
pub mod terminal;

use crate::run::ScenarioReport;
use snapshot::Comparison;

/// A replay and how it compares with its snapshot.
#[derive(Debug, Clone)]
pub struct ScenarioOutcome {
    pub report: ScenarioReport,
    pub snapshot: Comparison,
}

impl ScenarioOutcome {
    pub fn passed(&self) -> bool {
        self.report.passed() && self.snapshot == Comparison::Matches
    }
}
