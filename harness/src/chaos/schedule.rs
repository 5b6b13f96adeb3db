//! The fault schedule of a chaos run: a fixed list of faults applied and cleared at fixed
//! fractions of the run, always in the same order, so two runs break the stack the same way and
//! a reader can tell from the printed schedule which failures each fault caused.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::faults::{
    Dependency, Fault, FaultError, FaultInjector, ProcessAction, Stream, ToxicKind, ToxicSpec,
};
use crate::scenario::describe_fault;

/// What one step of the schedule does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Apply(Fault),
    /// Returns the dependency to health ([`FaultInjector::clear`]).
    Clear(Dependency),
}

impl Action {
    /// `apply db reset_peer after 0 ms (downstream, toxicity 0.5)`, `clear db`.
    pub fn describe(&self) -> String {
        match self {
            Action::Apply(fault) => format!("apply {}", describe_fault(fault)),
            Action::Clear(dependency) => format!("clear {dependency}"),
        }
    }
}

/// One step: `action` at `at` × the run's duration.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub at: f64,
    pub action: Action,
}

/// The steps, in the order they run.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub steps: Vec<Step>,
}

impl Schedule {
    /// The schedule `harness chaos` runs:
    /// - 20 %: `reset_peer` (timeout 0: reset at the first byte the database sends) on half of
    ///   the database connections, open or new; cleared at 40 %;
    /// - 50 %: the database restarted (in force until it is back);
    /// - 65 %: the auth proxy down (every connection closed, new ones refused), which makes
    ///   every request in the window fail whatever the timing: cleared at 75 %.
    ///
    /// The last quarter has no fault, so recovery is shown.
    pub fn standard() -> Schedule {
        let mut reset = ToxicSpec::new(ToxicKind::ResetPeer, Stream::Downstream).with("timeout", 0);
        reset.toxicity = 0.5;
        let steps = vec![
            Step {
                at: 0.20,
                action: Action::Apply(Fault::Toxic {
                    dependency: Dependency::Db,
                    toxic: reset,
                }),
            },
            Step {
                at: 0.40,
                action: Action::Clear(Dependency::Db),
            },
            Step {
                at: 0.50,
                action: Action::Apply(Fault::Process {
                    dependency: Dependency::Db,
                    action: ProcessAction::Restart,
                }),
            },
            Step {
                at: 0.65,
                action: Action::Apply(Fault::Down {
                    dependency: Dependency::Auth,
                }),
            },
            Step {
                at: 0.75,
                action: Action::Clear(Dependency::Auth),
            },
        ];
        Schedule { steps }
    }

    /// Runs the steps against `injector`, each at its time from `start` or as soon as the one
    /// before has finished (a restart can outlast its slot). Stops at the first failure, returning
    /// what was done before it.
    pub async fn play(
        &self,
        injector: &dyn FaultInjector,
        start: Instant,
        duration: Duration,
    ) -> Result<Vec<Played>, (Vec<Played>, FaultError)> {
        let mut played = Vec::with_capacity(self.steps.len());
        for step in &self.steps {
            let planned = duration.mul_f64(step.at);
            tokio::time::sleep_until((start + planned).into()).await;
            let started = start.elapsed();
            let outcome = match &step.action {
                Action::Apply(fault) => injector.apply(fault).await,
                Action::Clear(dependency) => injector.clear(*dependency).await,
            };
            let finished = start.elapsed();
            tracing::info!(action = %step.action.describe(), ?started, ?finished, "chaos step");
            if let Err(error) = outcome {
                return Err((played, error));
            }
            played.push(Played {
                action: step.action.clone(),
                planned,
                started,
                finished,
            });
        }
        Ok(played)
    }
}

/// A step as it ran, in times from the start of the load.
#[derive(Debug, Clone, PartialEq)]
pub struct Played {
    pub action: Action,
    pub planned: Duration,
    pub started: Duration,
    pub finished: Duration,
}

/// A played step as the report shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlayedLine {
    pub planned_ms: f64,
    pub started_ms: f64,
    pub took_ms: f64,
    pub action: String,
}

impl From<&Played> for PlayedLine {
    fn from(played: &Played) -> PlayedLine {
        PlayedLine {
            planned_ms: millis(played.planned),
            started_ms: millis(played.started),
            took_ms: millis(played.finished.saturating_sub(played.started)),
            action: played.action.describe(),
        }
    }
}

pub(crate) fn millis(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1e4).round() / 10.0
}

/// When one fault was in force.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub fault: Fault,
    /// Its application started: from here requests may see it.
    pub applying: Duration,
    /// Its application finished: from here every request sees it...
    pub applied: Duration,
    /// ...until its clear started...
    pub clearing: Duration,
    /// ...and none sees it after its clear finished.
    pub cleared: Duration,
}

impl Window {
    /// Whether the fault was fully in force from `from` to `until`.
    pub fn covers(&self, from: Duration, until: Duration) -> bool {
        self.applied <= from && until <= self.clearing
    }

    /// Whether the fault may have touched anything between `from` and `until`.
    pub fn touches(&self, from: Duration, until: Duration) -> bool {
        from < self.cleared && self.applying < until
    }
}

/// The windows of the faults played; a fault never cleared lasts until `end`. A restart is in
/// force while it runs: the server is down, then back.
pub fn windows(played: &[Played], end: Duration) -> Vec<Window> {
    let mut windows: Vec<Window> = Vec::new();
    let mut open: Vec<Window> = Vec::new();
    for step in played {
        match &step.action {
            Action::Apply(
                fault @ Fault::Process {
                    action: ProcessAction::Restart | ProcessAction::Resume,
                    ..
                },
            ) => windows.push(Window {
                fault: fault.clone(),
                applying: step.started,
                applied: step.started,
                clearing: step.finished,
                cleared: step.finished,
            }),
            Action::Apply(fault) => open.push(Window {
                fault: fault.clone(),
                applying: step.started,
                applied: step.finished,
                clearing: end,
                cleared: end,
            }),
            Action::Clear(dependency) => {
                let (closed, still): (Vec<Window>, Vec<Window>) = open
                    .into_iter()
                    .partition(|window| window.fault.dependency() == *dependency);
                open = still;
                windows.extend(closed.into_iter().map(|window| Window {
                    clearing: step.started,
                    cleared: step.finished,
                    ..window
                }));
            }
        }
    }
    windows.extend(open);
    windows.sort_by_key(|window| window.applying);
    windows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(value: u64) -> Duration {
        Duration::from_millis(value)
    }

    fn played(action: Action, started: u64, finished: u64) -> Played {
        Played {
            action,
            planned: ms(started),
            started: ms(started),
            finished: ms(finished),
        }
    }

    #[test]
    fn the_standard_schedule_clears_everything_before_its_last_quarter() {
        let schedule = Schedule::standard();
        let last = schedule.steps.last().unwrap();
        assert!(matches!(last.action, Action::Clear(_)));
        assert!(last.at <= 0.75, "{last:?}");
        let mut at = 0.0;
        for step in &schedule.steps {
            assert!(step.at >= at, "steps run in order: {schedule:?}");
            at = step.at;
        }
        let applied: Vec<Dependency> = schedule
            .steps
            .iter()
            .filter_map(|step| match &step.action {
                Action::Apply(fault) => Some(fault.dependency()),
                Action::Clear(_) => None,
            })
            .collect();
        assert_eq!(applied, [Dependency::Db, Dependency::Db, Dependency::Auth]);
    }

    #[test]
    fn windows_run_from_apply_to_clear_and_a_restart_lasts_while_it_runs() {
        let schedule = Schedule::standard();
        let actions: Vec<Action> = schedule.steps.iter().map(|s| s.action.clone()).collect();
        let played = vec![
            played(actions[0].clone(), 100, 102),
            played(actions[1].clone(), 200, 205),
            played(actions[2].clone(), 250, 700),
            played(actions[3].clone(), 800, 801),
        ];
        let windows = windows(&played, ms(1000));
        assert_eq!(windows.len(), 3);
        assert_eq!(
            (windows[0].applied, windows[0].clearing, windows[0].cleared),
            (ms(102), ms(200), ms(205))
        );
        assert_eq!(
            (windows[1].applying, windows[1].cleared),
            (ms(250), ms(700))
        );
        // Never cleared: in force until the end.
        assert_eq!(windows[2].clearing, ms(1000));
        assert!(windows[0].covers(ms(110), ms(190)));
        assert!(!windows[0].covers(ms(101), ms(190)));
        assert!(windows[0].touches(ms(204), ms(300)));
        assert!(!windows[0].touches(ms(205), ms(300)));
    }
}
