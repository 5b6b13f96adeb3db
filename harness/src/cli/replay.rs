//! How `harness run` replays its scenarios: up to `--jobs` at a time, those that may share one
//! stack on it, the others (faults, budgets, rotations, another key profile) each on a stack of
//! its own, and the outcomes in the files' order: the same output for any number of jobs.

use anyhow::Context;
use harness::project::Project;
use harness::report::ScenarioOutcome;
use harness::report::snapshot::{self, Comparison, SnapshotStore};
use harness::run::{Runner, ScenarioReport};
use harness::scenario::Scenario;
use harness::suite::pool::{self, Pool, StackKind};
use harness::suite::{self, Placement};
use tokio::sync::Mutex;

use super::project::Session;
use super::provider::ProviderArgs;

/// What every scenario's replay needs to know about the run.
pub(crate) struct Suite<'a> {
    pub provider: &'a ProviderArgs,
    pub project: Option<&'a Project>,
    pub store: &'a SnapshotStore,
    /// Write `.snap.new` files for changed snapshots.
    pub update: bool,
    /// `--target`: another service answers; snapshots are not compared, nothing is isolated.
    pub external: bool,
    pub say: &'a (dyn Fn(&str) + Sync),
    /// A line that stays (a written `.snap.new`), where `say`'s may be rewritten.
    pub note: &'a (dyn Fn(&str) + Sync),
    /// Stacks a scenario had to itself, for the next one of their kind.
    pub pool: Pool<Session>,
}

impl Suite<'_> {
    /// Replays `scenarios` with at most `jobs` at a time on `shared` (the run's stack or
    /// target) or stacks of their own; the first error (a stack that would not start) after
    /// every replay has ended.
    pub(crate) async fn replay(
        &self,
        scenarios: &[Scenario],
        shared: Option<&Runner>,
        shared_is_serial: bool,
        jobs: usize,
    ) -> anyhow::Result<Vec<ScenarioOutcome>> {
        let profile = shared.map(|runner| runner.targets().keys.current().profile().name());
        // A project's services print into one stream: two scenarios at once on them would get
        // each other's lines in their snapshots.
        let shared_lane = Mutex::new(());
        let total = scenarios.len();
        let planned: Vec<(usize, &Scenario, Placement)> = scenarios
            .iter()
            .enumerate()
            .map(|(index, scenario)| {
                let placement = match (self.external, profile) {
                    (true, _) => Placement::Shared,
                    (false, Some(profile)) => suite::placement(scenario, profile),
                    (false, None) => Placement::Own("no shared stack"),
                };
                (index, scenario, placement)
            })
            .collect();
        let results = suite::replay_concurrently(
            planned,
            jobs,
            |(_, scenario, placement)| {
                let own = u32::from(matches!(placement, Placement::Own(_)));
                own * 1000 + suite::expected_weight(scenario)
            },
            |(index, scenario, placement)| {
                let shared_lane = &shared_lane;
                async move {
                    (self.say)(&format!("[{}/{total}] {}", index + 1, scenario.name));
                    let report = match (placement, shared) {
                        (Placement::Shared, Some(runner)) => {
                            let _turn = if shared_is_serial {
                                Some(shared_lane.lock().await)
                            } else {
                                None
                            };
                            runner.replay(scenario).await
                        }
                        _ => self.replay_on_own_stack(scenario).await?,
                    };
                    self.compare(report)
                }
            },
        )
        .await;
        results.into_iter().collect()
    }

    async fn replay_on_own_stack(&self, scenario: &Scenario) -> anyhow::Result<ScenarioReport> {
        let kind = StackKind::of(scenario);
        let own = match self.pool.take(kind) {
            Some(idle) => idle,
            None => {
                // Its own budgets and key profile, and its own services, which must talk to
                // its stack.
                let builder = self.provider.builder().scenario(scenario);
                Session::start(builder, self.project, false, self.say)
                    .await
                    .with_context(|| format!("starting the stack for {}", scenario.name))?
            }
        };
        let report = own.runner().replay(scenario).await;
        if pool::reusable_after(scenario, &report) {
            self.pool.give(kind, own);
        } else {
            own.stop().await.context("stopping the scenario's stack")?;
        }
        Ok(report)
    }

    /// Stops the stacks left in the pool.
    pub(crate) async fn stop(self) -> anyhow::Result<()> {
        let mut first_error = Ok(());
        for session in self.pool.drain() {
            let stopped = session.stop().await.context("stopping a scenario's stack");
            if first_error.is_ok() {
                first_error = stopped;
            }
        }
        first_error
    }

    fn compare(&self, report: ScenarioReport) -> anyhow::Result<ScenarioOutcome> {
        // A skipped scenario has nothing to compare.
        if self.external || report.skipped.is_some() {
            return Ok(ScenarioOutcome {
                report,
                snapshot: Comparison::Matches,
            });
        }
        let name = &report.name;
        let text = snapshot::render(&report);
        let comparison = self
            .store
            .compare(name, &text)
            .with_context(|| format!("reading the snapshot {}", self.store.path(name).display()))?;
        if self.update && comparison != Comparison::Matches {
            let pending = self.store.write_pending(name, &text)?;
            (self.note)(&format!("wrote {} for review", pending.display()));
        }
        Ok(ScenarioOutcome {
            report,
            snapshot: comparison,
        })
    }
}
