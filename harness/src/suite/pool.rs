//! Stacks that scenarios had to themselves, kept for the next scenario that needs the same kind.
//!
//! A fault scenario gets a stack nobody else uses while it runs, but it need not be a new one:
//! its replay ends with every fault cleared and recovery checked, so the next scenario with the
//! same budgets and key profile can have it, one at a time. A boot is cheap (0.12 s warm) but
//! costs CPU that a busy machine's other jobs need. Stacks whose processes were killed, stopped
//! or restarted, or whose scenario failed, are not kept ([`reusable_after`]).

use std::sync::Mutex;

use crate::faults::Fault;
use crate::run::ScenarioReport;
use crate::scenario::{Scenario, Timeouts};

/// What a scenario needs of its own stack: two scenarios with the same key can use one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackKind {
    timeouts: Timeouts,
    keys: Option<&'static str>,
}

impl StackKind {
    pub fn of(scenario: &Scenario) -> StackKind {
        StackKind {
            timeouts: scenario.timeouts,
            keys: scenario.keys.map(|keys| keys.name()),
        }
    }
}

/// Idle stacks (or sessions: whatever `T` holds one) by kind.
pub struct Pool<T> {
    idle: Mutex<Vec<(StackKind, T)>>,
}

impl<T> Default for Pool<T> {
    fn default() -> Self {
        Pool {
            idle: Mutex::new(Vec::new()),
        }
    }
}

impl<T> Pool<T> {
    /// An idle stack of this kind, if one is left.
    pub fn take(&self, kind: StackKind) -> Option<T> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let index = idle.iter().position(|(have, _)| *have == kind)?;
        Some(idle.swap_remove(index).1)
    }

    pub fn give(&self, kind: StackKind, stack: T) {
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((kind, stack));
    }

    /// Every idle stack, to stop them.
    pub fn drain(&self) -> Vec<T> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.drain(..).map(|(_, stack)| stack).collect()
    }
}

/// Whether a stack is as good as new after `scenario` replayed on it: it passed (so its faults
/// were cleared and it recovered), and it touched no process or network (a restarted
/// PostgreSQL is a different server, with its own start-up to finish).
pub fn reusable_after(scenario: &Scenario, report: &ScenarioReport) -> bool {
    let harsh = scenario
        .steps
        .iter()
        .flat_map(|step| step.faults.iter().chain(&step.during))
        .any(|fault| matches!(fault, Fault::Process { .. } | Fault::Network { .. }));
    !harsh && report.passed() && report.skipped.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(text: &str) -> Scenario {
        let stages = service::Stage::ALL.map(|stage| stage.name());
        Scenario::parse(std::path::Path::new("s.toml"), text, &stages).expect("parses")
    }

    #[test]
    fn a_stack_goes_only_to_a_scenario_of_its_kind() {
        let step =
            "[[step]]\nname = \"a\"\nstage = \"reference\"\nmethod = \"GET\"\npath = \"/\"\n";
        let one = scenario(&format!("story = \"s\"\n[timeouts]\nauth = \"1s\"\n{step}"));
        let two = scenario(&format!("story = \"s\"\n[timeouts]\ndb = \"1s\"\n{step}"));
        let pool = Pool::default();
        pool.give(StackKind::of(&one), "stack of one");
        assert_eq!(pool.take(StackKind::of(&two)), None);
        assert_eq!(pool.take(StackKind::of(&one)), Some("stack of one"));
        assert_eq!(
            pool.take(StackKind::of(&one)),
            None,
            "one scenario at a time"
        );
    }
}
