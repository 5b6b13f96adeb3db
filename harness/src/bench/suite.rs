//! The suite's figures: every scenario replayed as `harness run --jobs N` replays it (stacks of
//! their own for the faults, the rest sharing one), its wall time, and the slowest scenario, the
//! floor no number of jobs goes under.

use std::time::{Duration, Instant};

use super::report::{Slowest, Suite};
use super::{BenchError, Options, builder};
use crate::scenario::Scenario;
use crate::suite::pool::{self, Pool, StackKind};
use crate::suite::{self, Placement};
use crate::{Runner, Stack};

/// Replays `scenarios` with `options.jobs` at a time; `shared` is the stack they may share.
pub(super) async fn replay(
    shared: &Stack,
    scenarios: &[Scenario],
    options: &Options,
) -> Result<Suite, BenchError> {
    let runner = Runner::for_stack(shared);
    let profile = shared.keys().initial().profile().name();
    let pool: Pool<Stack> = Pool::default();
    let started = Instant::now();
    let reports = suite::replay_concurrently(
        scenarios.iter().collect(),
        options.jobs,
        |scenario| {
            let own = u32::from(suite::placement(scenario, profile) != Placement::Shared);
            own * 1000 + suite::expected_weight(scenario)
        },
        |scenario| {
            let (runner, pool) = (&runner, &pool);
            async move {
                if suite::placement(scenario, profile) == Placement::Shared {
                    return Ok::<_, BenchError>(runner.replay(scenario).await);
                }
                let kind = StackKind::of(scenario);
                let own = match pool.take(kind) {
                    Some(idle) => idle,
                    None => {
                        builder(options)
                            .provider(crate::stack::Provider::Native)
                            .scenario(scenario)
                            .start()
                            .await?
                    }
                };
                let report = Runner::for_stack(&own).replay(scenario).await;
                if pool::reusable_after(scenario, &report) {
                    pool.give(kind, own);
                } else {
                    own.stop().await?;
                }
                Ok(report)
            }
        },
    )
    .await;
    let wall_ms = started.elapsed().as_secs_f64() * 1e3;
    for stack in pool.drain() {
        stack.stop().await?;
    }
    let reports = reports.into_iter().collect::<Result<Vec<_>, _>>()?;
    let failures: Vec<String> = reports
        .iter()
        .filter(|report| !report.passed())
        .map(|report| {
            let first = report.failures().into_iter().next().unwrap_or_default();
            format!("{}: {first}", report.name)
        })
        .collect();

    let steps: usize = reports.iter().map(|report| report.steps.len()).sum();
    let fault_wall: Duration = scenarios
        .iter()
        .zip(&reports)
        .filter(|(scenario, _)| scenario.injects_faults())
        .map(|(_, report)| report.elapsed)
        .sum();
    let slowest = reports
        .iter()
        .max_by_key(|report| report.elapsed)
        .map(|report| Slowest {
            name: report.name.clone(),
            wall_ms: report.elapsed.as_secs_f64() * 1e3,
        });
    Ok(Suite {
        scenarios: scenarios.len(),
        steps,
        failed_scenarios: failures.len(),
        failures,
        jobs: options.jobs,
        wall_ms,
        scenario_sum_ms: reports
            .iter()
            .map(|report| report.elapsed.as_secs_f64() * 1e3)
            .sum(),
        slowest,
        fault_scenarios: scenarios.iter().filter(|s| s.injects_faults()).count(),
        fault_wall_ms: fault_wall.as_secs_f64() * 1e3,
        per_step_mean_ms: if steps == 0 {
            0.0
        } else {
            wall_ms / steps as f64
        },
    })
}
