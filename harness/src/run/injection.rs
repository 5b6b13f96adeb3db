//! The faults a replay has in force, applied and removed through the target's [`FaultInjector`],
//! and the timeline of what was in force when, which the invariants judge.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use super::invariants::{Event, RequestRecord};
use crate::faults::{Dependency, Fault, FaultInjector, NetworkAction, ProcessAction};
use crate::scenario::describe_fault;

pub(super) struct Injection {
    injector: Option<Arc<dyn FaultInjector>>,
    started: Instant,
    /// Applied by `faults`: in force until a `clear` of their dependency.
    kept: Vec<Fault>,
    /// Applied by `during`: removed after the step's request.
    during: Vec<Fault>,
    /// The dependencies of this step's `during` faults, applied or not (a failed apply may
    /// have half-happened): cleared after the request.
    during_dependencies: BTreeSet<Dependency>,
    /// Every dependency anything was done to: all are cleared at the end.
    touched: BTreeSet<Dependency>,
    events: Vec<Event>,
}

impl Injection {
    pub(super) fn new(injector: Option<Arc<dyn FaultInjector>>, started: Instant) -> Injection {
        Injection {
            injector,
            started,
            kept: Vec::new(),
            during: Vec::new(),
            during_dependencies: BTreeSet::new(),
            touched: BTreeSet::new(),
            events: Vec::new(),
        }
    }

    fn injector(&self) -> Result<&dyn FaultInjector, String> {
        // Replay::prepare refuses fault scenarios without an injector; this is a second guard.
        self.injector
            .as_deref()
            .ok_or_else(|| "this target cannot inject faults".to_owned())
    }

    /// The faults in force now, in the order they were applied.
    pub(super) fn active(&self) -> Vec<Fault> {
        self.kept.iter().chain(&self.during).cloned().collect()
    }

    pub(super) fn touched_any(&self) -> bool {
        !self.touched.is_empty()
    }

    /// Applies `fault`, kept until a `clear` or, with `during`, until [`Injection::end_during`].
    pub(super) async fn apply(
        &mut self,
        step: usize,
        fault: &Fault,
        during: bool,
    ) -> Result<(), String> {
        self.touched.insert(fault.dependency());
        if during {
            self.during_dependencies.insert(fault.dependency());
        }
        let result = self.injector()?.apply(fault).await;
        result.map_err(|error| format!("applying `{}`: {error}", describe_fault(fault)))?;
        if !self.heal(fault) {
            if during {
                self.during.push(fault.clone());
            } else {
                self.kept.push(fault.clone());
            }
        }
        self.changed(step);
        Ok(())
    }

    /// Resume, restart and reconnect undo earlier faults rather than add one.
    fn heal(&mut self, fault: &Fault) -> bool {
        let undone: fn(&Fault, Dependency) -> bool = match fault {
            Fault::Process {
                action: ProcessAction::Resume,
                ..
            } => |kept, dependency| {
                *kept
                    == Fault::Process {
                        dependency,
                        action: ProcessAction::Pause,
                    }
            },
            Fault::Process {
                action: ProcessAction::Restart,
                ..
            } => {
                |kept, dependency| matches!(kept, Fault::Process { dependency: of, .. } if *of == dependency)
            }
            Fault::Network {
                action: NetworkAction::Reconnect,
                ..
            } => {
                |kept, dependency| matches!(kept, Fault::Network { dependency: of, .. } if *of == dependency)
            }
            _ => return false,
        };
        let dependency = fault.dependency();
        self.kept.retain(|kept| !undone(kept, dependency));
        self.during.retain(|kept| !undone(kept, dependency));
        true
    }

    /// Returns each dependency to health; every failure is returned, none stops the others.
    pub(super) async fn clear(&mut self, step: usize, dependencies: &[Dependency]) -> Vec<String> {
        let mut failures = Vec::new();
        for &dependency in dependencies {
            let result = match self.injector() {
                Ok(injector) => injector.clear(dependency).await.map_err(|e| e.to_string()),
                Err(error) => Err(error),
            };
            if let Err(error) = result {
                failures.push(format!("clearing {dependency}: {error}"));
            }
            self.kept.retain(|fault| fault.dependency() != dependency);
            self.during.retain(|fault| fault.dependency() != dependency);
        }
        self.changed(step);
        failures
    }

    /// Removes the step's `during` faults: clears their dependencies, then applies again the kept
    /// faults those dependencies had (the injector clears a dependency as a whole).
    pub(super) async fn end_during(&mut self, step: usize) -> Vec<String> {
        let dependencies: Vec<Dependency> = std::mem::take(&mut self.during_dependencies)
            .into_iter()
            .collect();
        if dependencies.is_empty() {
            return Vec::new();
        }
        let reapply: Vec<Fault> = self
            .kept
            .iter()
            .filter(|fault| dependencies.contains(&fault.dependency()))
            .cloned()
            .collect();
        let mut failures = self.clear(step, &dependencies).await;
        for fault in &reapply {
            if let Err(error) = self.apply(step, fault, false).await {
                failures.push(format!("re-applying after the step: {error}"));
            }
        }
        failures
    }

    /// Clears every dependency any step touched: at the end of the scenario, whatever happened.
    pub(super) async fn clear_all(&mut self, step: usize) -> Vec<String> {
        let touched: Vec<Dependency> = self.touched.iter().copied().collect();
        self.clear(step, &touched).await
    }

    pub(super) fn record(&mut self, record: RequestRecord) {
        self.events.push(Event::Request(record));
    }

    pub(super) fn started(&self) -> Instant {
        self.started
    }

    pub(super) fn events(&self) -> &[Event] {
        &self.events
    }

    fn changed(&mut self, step: usize) {
        let active = self.active();
        let unchanged = self.events.iter().rev().find_map(|event| match event {
            Event::Faults { active, .. } => Some(active),
            Event::Request(_) => None,
        });
        if unchanged.map_or(active.is_empty(), |last| *last == active) {
            return;
        }
        self.events.push(Event::Faults {
            at: self.started.elapsed(),
            step,
            active,
        });
    }
}
