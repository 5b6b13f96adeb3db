//! A suite of scenarios replayed concurrently (`harness run --jobs N`, `harness bench`).
//!
//! Which scenarios may share one stack ([`placement`]), in what order they start (the ones that
//! wait longest first, so they do not end the run alone), and how their results come back in
//! the files' order whatever order they finish in ([`replay_concurrently`]): the output of a
//! run does not depend on how many jobs it had.

pub mod pool;
pub mod shard;

use std::future::Future;

use futures_util::stream::{self, StreamExt};

use crate::scenario::Scenario;
pub use shard::{Shard, ShardError, Strategy};

/// Where a scenario replays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// On the suite's stack, beside others: its users are its own, nothing else is.
    Shared,
    /// On a stack of its own (a warm boot is a tenth of a second), for this reason.
    Own(&'static str),
}

/// Whether `scenario` can share a stack of the `shared_profile` key profile with scenarios
/// replaying at the same time. It cannot when it changes or depends on what the others see:
/// faults and budgets are the whole stack's, a rotation restarts the auth server, and every
/// scenario's start empties the JWKS caches a caching stage's story depends on.
pub fn placement(scenario: &Scenario, shared_profile: &str) -> Placement {
    if scenario.injects_faults() {
        Placement::Own("it breaks the stack's dependencies")
    } else if !scenario.timeouts.is_default() {
        Placement::Own("it sets its own timeouts")
    } else if scenario
        .keys
        .is_some_and(|wanted| wanted.name() != shared_profile)
    {
        Placement::Own("it needs another key profile")
    } else if scenario.rotates_keys() {
        Placement::Own("it rotates the signing keys")
    } else if scenario.stages().iter().any(|stage| caches_jwks(stage)) {
        Placement::Own("its stage caches the JWKS, which every scenario's start empties")
    } else {
        Placement::Shared
    }
}

fn caches_jwks(stage: &str) -> bool {
    use service::Verification;
    service::Stage::ALL
        .iter()
        .find(|known| known.name() == stage)
        .is_some_and(|known| {
            matches!(
                known.verification(),
                Verification::Local | Verification::Claims | Verification::HandRolled
            )
        })
}

/// The default `--jobs`: twice the cores (fault scenarios mostly wait out timeouts, so more
/// jobs than cores pay), at least 2, at most 8 (each own stack is a PostgreSQL).
pub fn default_jobs() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores * 2).clamp(2, 8)
}

/// Runs `replay` for every item with at most `jobs` at a time, starting them in `priority`
/// order (highest first), and returns the results in the items' own order.
pub async fn replay_concurrently<T, R, F, Fut>(
    items: Vec<T>,
    jobs: usize,
    priority: impl Fn(&T) -> u32,
    replay: F,
) -> Vec<R>
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = R>,
{
    let mut order: Vec<(usize, T)> = items.into_iter().enumerate().collect();
    // Stable: equal priorities keep the files' order.
    order.sort_by_key(|(_, item)| std::cmp::Reverse(priority(item)));
    let replay = &replay;
    let mut done: Vec<(usize, R)> = stream::iter(order)
        .map(|(index, item)| async move { (index, replay(item).await) })
        .buffer_unordered(jobs.max(1))
        .collect()
        .await;
    done.sort_by_key(|(index, _)| *index);
    done.into_iter().map(|(_, result)| result).collect()
}

/// How long a scenario is expected to take, roughly, to start the long ones first: fault
/// scenarios wait out budgets and recoveries; the rest are quick.
pub fn expected_weight(scenario: &Scenario) -> u32 {
    let faults = scenario
        .steps
        .iter()
        .filter(|step| step.touches_faults())
        .count() as u32;
    let recovers = scenario
        .steps
        .iter()
        .filter(|step| step.recover.is_some())
        .count() as u32;
    faults * 4 + recovers * 2 + scenario.steps.len() as u32 / 4
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn results_come_back_in_the_items_order_whatever_finishes_first() {
        // The first item is the slowest and the last starts first: the order is still 0..5.
        let items: Vec<u64> = vec![50, 10, 0, 30, 5];
        let results = replay_concurrently(
            items.clone(),
            3,
            |millis| *millis as u32,
            |millis| async move {
                tokio::time::sleep(Duration::from_millis(millis)).await;
                millis
            },
        )
        .await;
        assert_eq!(results, items);
    }

    #[tokio::test]
    async fn never_more_than_jobs_at_a_time() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let running = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        replay_concurrently(
            (0..12).collect::<Vec<u32>>(),
            3,
            |_| 0,
            |_| async {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(2)).await;
                running.fetch_sub(1, Ordering::SeqCst);
            },
        )
        .await;
        assert_eq!(peak.load(Ordering::SeqCst), 3);
    }

    fn scenario(text: &str) -> Scenario {
        let stages = service::Stage::ALL.map(|stage| stage.name());
        Scenario::parse(std::path::Path::new("s.toml"), text, &stages).expect("parses")
    }

    const REQUEST: &str =
        "stage = \"reference\"\nmethod = \"POST\"\npath = \"/api/session/create\"\n";

    #[test]
    fn only_scenarios_that_touch_nothing_shared_share_the_stack() {
        let plain = scenario(&format!("story = \"s\"\n[[step]]\nname = \"a\"\n{REQUEST}"));
        assert_eq!(placement(&plain, "cli"), Placement::Shared);

        let fault = format!(
            "story = \"s\"\n[[step]]\nname = \"a\"\nfaults = [{{ proxy = \"db\", toxic = \"down\" }}]\n{REQUEST}"
        );
        assert!(matches!(
            placement(&scenario(&fault), "cli"),
            Placement::Own(_)
        ));

        let budgets =
            format!("story = \"s\"\n[timeouts]\nauth = \"1s\"\n[[step]]\nname = \"a\"\n{REQUEST}");
        assert!(matches!(
            placement(&scenario(&budgets), "cli"),
            Placement::Own(_)
        ));

        let legacy = format!("story = \"s\"\nkeys = \"legacy\"\n[[step]]\nname = \"a\"\n{REQUEST}");
        assert!(matches!(
            placement(&scenario(&legacy), "cli"),
            Placement::Own(_)
        ));
        assert_eq!(placement(&scenario(&legacy), "legacy"), Placement::Shared);

        let caching = "story = \"s\"\n[[step]]\nname = \"a\"\nstage = \"reference-local\"\n\
                       method = \"POST\"\npath = \"/api/session/create\"\n";
        assert!(matches!(
            placement(&scenario(caching), "cli"),
            Placement::Own(_)
        ));
    }
}
