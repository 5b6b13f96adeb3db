//! `--shard K/N`: one of N CI jobs replays its part of the suite, as `cargo nextest run
//! --partition` splits tests: `hash:K/N` by a hash of the scenario's name (adding or removing a
//! scenario moves no other between shards), `count:K/N` by its place in the sorted list (even
//! shards, but one added file shifts the rest). Every scenario is in exactly one shard.
//!
//! Without the flag the shard comes from the CI's own variables when they are set
//! ([`Shard::from_env`]), so a CI matrix needs no script to compute it.

use std::fmt;

/// How scenarios are dealt to shards (nextest's two strategies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    Hash,
    Count,
}

/// Shard `index` (1-based) of `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub strategy: Strategy,
    pub index: u64,
    pub total: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    #[error(
        "`{0}` is not a shard: expected K/N, hash:K/N or count:K/N with 1 ≤ K ≤ N (e.g. hash:2/4)"
    )]
    Malformed(String),
    #[error("shard {index}/{total} does not exist: K must be between 1 and N ({text})")]
    OutOfRange {
        text: String,
        index: u64,
        total: u64,
    },
    #[error("{set} is set and {missing} is not: a CI shard needs both (or pass --shard K/N)")]
    HalfSet {
        set: &'static str,
        missing: &'static str,
    },
    #[error("{name}={value}: not a shard {what}")]
    BadVariable {
        name: &'static str,
        value: String,
        what: &'static str,
    },
}

/// The CIs' own shard variables: (index, total, whether the index counts from 0).
const CI_VARIABLES: &[(&str, &str, bool)] = &[
    ("CI_NODE_INDEX", "CI_NODE_TOTAL", false), // GitLab `parallel: N`
    (
        "BUILDKITE_PARALLEL_JOB",
        "BUILDKITE_PARALLEL_JOB_COUNT",
        true,
    ), // Buildkite `parallelism`
    ("CIRCLE_NODE_INDEX", "CIRCLE_NODE_TOTAL", true), // CircleCI `parallelism`
    (
        "SYSTEM_JOBPOSITIONINPHASE",
        "SYSTEM_TOTALJOBSINPHASE",
        false,
    ), // Azure `strategy.parallel`
];

/// The variable that names a shard directly, in `--shard`'s syntax (GitHub Actions has none of
/// its own: set it from the matrix).
pub const SHARD_VARIABLE: &str = "HARNESS_SHARD";

impl Shard {
    /// `K/N` (hash), `hash:K/N` or `count:K/N`.
    pub fn parse(text: &str) -> Result<Shard, ShardError> {
        let malformed = || ShardError::Malformed(text.to_owned());
        let trimmed = text.trim();
        let (strategy, rest) = match trimmed.split_once(':') {
            Some(("hash", rest)) => (Strategy::Hash, rest),
            Some(("count", rest)) => (Strategy::Count, rest),
            Some(_) => return Err(malformed()),
            None => (Strategy::Hash, trimmed),
        };
        let (index, total) = rest.split_once('/').ok_or_else(malformed)?;
        let number = |part: &str| part.trim().parse::<u64>().map_err(|_| malformed());
        let (index, total) = (number(index)?, number(total)?);
        if index == 0 || index > total {
            return Err(ShardError::OutOfRange {
                text: text.to_owned(),
                index,
                total,
            });
        }
        Ok(Shard {
            strategy,
            index,
            total,
        })
    }

    /// The shard the environment names: HARNESS_SHARD, else the first CI's pair of variables
    /// that is set (GitLab, Buildkite, CircleCI, Azure Pipelines), hashed. `None` outside a
    /// sharded job, or when the CI runs one job.
    pub fn from_env(var: &dyn Fn(&str) -> Option<String>) -> Result<Option<Shard>, ShardError> {
        if let Some(text) = var(SHARD_VARIABLE).filter(|text| !text.trim().is_empty()) {
            return Shard::parse(&text).map(Some);
        }
        for &(index_name, total_name, zero_based) in CI_VARIABLES {
            let (index, total) = match (var(index_name), var(total_name)) {
                (None, None) => continue,
                // GitLab sets CI_NODE_TOTAL=1 in every job without `parallel`.
                (None, Some(total)) if total.trim() == "1" => continue,
                (Some(_), None) => {
                    return Err(ShardError::HalfSet {
                        set: index_name,
                        missing: total_name,
                    });
                }
                (None, Some(_)) => {
                    return Err(ShardError::HalfSet {
                        set: total_name,
                        missing: index_name,
                    });
                }
                (Some(index), Some(total)) => (index, total),
            };
            let number = |name: &'static str, value: String, what: &'static str| {
                value
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| ShardError::BadVariable { name, value, what })
            };
            let total = number(total_name, total, "count")?;
            let index = number(index_name, index, "index")? + u64::from(zero_based);
            if total <= 1 {
                return Ok(None);
            }
            let text = format!("{index_name}/{total_name}");
            if index == 0 || index > total {
                return Err(ShardError::OutOfRange { text, index, total });
            }
            return Ok(Some(Shard {
                strategy: Strategy::Hash,
                index,
                total,
            }));
        }
        Ok(None)
    }

    /// Whether the scenario with this stable id (its name), at `position` in the sorted list of
    /// the run's scenarios (after filters), is in this shard.
    pub fn contains(&self, id: &str, position: usize) -> bool {
        let bucket = match self.strategy {
            Strategy::Hash => fnv1a(id.as_bytes()) % self.total,
            Strategy::Count => position as u64 % self.total,
        };
        bucket == self.index - 1
    }

    /// The items of this shard, in their order; `id` gives each one's stable id.
    pub fn select<T>(&self, items: Vec<T>, id: impl Fn(&T) -> &str) -> Vec<T> {
        items
            .into_iter()
            .enumerate()
            .filter(|(position, item)| self.contains(id(item), *position))
            .map(|(_, item)| item)
            .collect()
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let strategy = match self.strategy {
            Strategy::Hash => "hash",
            Strategy::Count => "count",
        };
        write!(f, "{strategy}:{}/{}", self.index, self.total)
    }
}

/// FNV-1a, 64 bits: fixed forever (a std `Hasher` may change between Rust releases), so a
/// scenario stays in its shard across toolchains and machines.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn names(count: usize) -> Vec<String> {
        (0..count).map(|i| format!("scenario-{i}")).collect()
    }

    #[test]
    fn every_scenario_is_in_exactly_one_shard() {
        let all = names(53);
        for strategy in ["hash", "count"] {
            for total in 1..=7u64 {
                let mut seen: HashMap<String, u64> = HashMap::new();
                for index in 1..=total {
                    let shard = Shard::parse(&format!("{strategy}:{index}/{total}")).unwrap();
                    for name in shard.select(all.clone(), |name| name.as_str()) {
                        assert!(
                            seen.insert(name.clone(), index).is_none(),
                            "{name} in two shards of {strategy}:{total}"
                        );
                    }
                }
                assert_eq!(seen.len(), all.len(), "{strategy}:*/{total} lost scenarios");
            }
        }
    }

    #[test]
    fn hash_shards_do_not_move_when_a_scenario_is_added() {
        let shard = Shard::parse("hash:2/3").unwrap();
        let before = shard.select(names(20), |name| name.as_str());
        let mut more = names(20);
        more.insert(0, "a-new-scenario".to_owned());
        let after = shard.select(more, |name| name.as_str());
        for name in &before {
            assert!(after.contains(name), "{name} moved to another shard");
        }
    }

    #[test]
    fn count_shards_deal_round_robin() {
        let shard = Shard::parse("count:2/3").unwrap();
        assert_eq!(
            shard.select(names(7), |name| name.as_str()),
            ["scenario-1", "scenario-4"]
        );
    }

    #[test]
    fn parses_nextest_syntax_and_refuses_the_rest() {
        let shard = Shard::parse("3/4").unwrap();
        assert_eq!(
            (shard.strategy, shard.index, shard.total),
            (Strategy::Hash, 3, 4)
        );
        assert_eq!(Shard::parse("count:1/2").unwrap().to_string(), "count:1/2");
        for bad in ["", "3", "a/4", "3/", "hash:3", "slice:1/2", "1/2/3", "-1/2"] {
            assert!(
                matches!(Shard::parse(bad), Err(ShardError::Malformed(_))),
                "{bad:?}"
            );
        }
        for bad in ["0/4", "5/4", "1/0"] {
            let error = Shard::parse(bad).unwrap_err();
            assert!(matches!(error, ShardError::OutOfRange { .. }), "{bad}");
            assert!(error.to_string().contains("between 1 and N"), "{error}");
        }
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn reads_each_ci_s_variables() {
        let shard = |pairs: &[(&str, &str)]| Shard::from_env(&env(pairs)).unwrap();
        assert_eq!(shard(&[]), None);
        assert_eq!(
            shard(&[("CI_NODE_TOTAL", "1")]),
            None,
            "GitLab without parallel"
        );
        let gitlab = shard(&[("CI_NODE_INDEX", "2"), ("CI_NODE_TOTAL", "3")]).unwrap();
        assert_eq!((gitlab.index, gitlab.total), (2, 3));
        let buildkite = shard(&[
            ("BUILDKITE_PARALLEL_JOB", "0"),
            ("BUILDKITE_PARALLEL_JOB_COUNT", "4"),
        ])
        .unwrap();
        assert_eq!((buildkite.index, buildkite.total), (1, 4), "0-based");
        let circle = shard(&[("CIRCLE_NODE_INDEX", "3"), ("CIRCLE_NODE_TOTAL", "4")]).unwrap();
        assert_eq!((circle.index, circle.total), (4, 4));
        let azure = shard(&[
            ("SYSTEM_JOBPOSITIONINPHASE", "1"),
            ("SYSTEM_TOTALJOBSINPHASE", "2"),
        ])
        .unwrap();
        assert_eq!((azure.index, azure.total), (1, 2));
        let own = shard(&[("HARNESS_SHARD", "count:2/2"), ("CI_NODE_INDEX", "1")]).unwrap();
        assert_eq!(own.to_string(), "count:2/2", "HARNESS_SHARD first");
    }

    #[test]
    fn bad_ci_variables_are_clear_errors() {
        let error = |pairs: &[(&str, &str)]| Shard::from_env(&env(pairs)).unwrap_err().to_string();
        assert!(error(&[("CI_NODE_INDEX", "2")]).contains("CI_NODE_TOTAL is not"));
        assert!(
            error(&[("CIRCLE_NODE_INDEX", "x"), ("CIRCLE_NODE_TOTAL", "2")])
                .contains("CIRCLE_NODE_INDEX=x")
        );
        assert!(error(&[("CI_NODE_INDEX", "4"), ("CI_NODE_TOTAL", "3")]).contains("4/3"));
        assert!(error(&[("HARNESS_SHARD", "2")]).contains("not a shard"));
    }
}
