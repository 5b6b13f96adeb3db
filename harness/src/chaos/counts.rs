//! The figures of a chaos run: requests by status, rows, what each fault did, and each
//! user's share. The invariants ([`super::verdict`]) judge; these only count.

use std::collections::BTreeMap;

use serde::Serialize;

use super::load::Record;
use super::schedule::millis;
use super::verdict::Observed;
use crate::scenario::describe_fault;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Counts {
    pub requests: u64,
    pub status_2xx: u64,
    pub status_503: u64,
    pub status_504: u64,
    /// Any other status, or `no answer`, with how many times.
    pub other: BTreeMap<String, u64>,
    pub rows: u64,
    /// Successes whose id has no row (or a row of another user): must be 0.
    pub lost_writes: u64,
    /// Rows no success acknowledged: committed, but the answer was lost (ambiguous, not a failure).
    pub unacknowledged_rows: u64,
    /// Answers but successes to requests that ran while a fault was in force, and to the others.
    pub failures_during_faults: u64,
    pub failures_outside_faults: u64,
}

/// What one fault did: the requests that ran while it may have been in force.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaultCounts {
    pub fault: String,
    pub from_ms: f64,
    pub until_ms: f64,
    pub requests: u64,
    pub status_2xx: u64,
    pub status_503: u64,
    pub status_504: u64,
    pub other: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UserCounts {
    pub client: usize,
    pub requests: u64,
    pub status_2xx: u64,
    pub rows: u64,
}

pub(super) fn status_name(record: &Record) -> String {
    record
        .status
        .map_or_else(|| "no answer".to_owned(), |status| status.to_string())
}

pub(super) fn count(observed: Observed<'_>) -> Counts {
    let mut counts = Counts {
        requests: observed.records.len() as u64,
        rows: observed.rows().len() as u64,
        ..Counts::default()
    };
    for record in observed.records {
        match record.status {
            _ if record.succeeded() => counts.status_2xx += 1,
            Some(503) => counts.status_503 += 1,
            Some(504) => counts.status_504 += 1,
            _ => *counts.other.entry(status_name(record)).or_default() += 1,
        }
        if !record.succeeded() {
            let during = observed
                .windows
                .iter()
                .any(|window| window.touches(record.at, record.end()));
            match during {
                true => counts.failures_during_faults += 1,
                false => counts.failures_outside_faults += 1,
            }
        }
    }
    counts
}

pub(super) fn faults(observed: Observed<'_>) -> Vec<FaultCounts> {
    observed
        .windows
        .iter()
        .map(|window| {
            let mut counts = FaultCounts {
                fault: describe_fault(&window.fault),
                from_ms: millis(window.applying),
                until_ms: millis(window.cleared),
                requests: 0,
                status_2xx: 0,
                status_503: 0,
                status_504: 0,
                other: 0,
            };
            let touched = observed
                .records
                .iter()
                .filter(|record| window.touches(record.at, record.end()));
            for record in touched {
                counts.requests += 1;
                match record.status {
                    _ if record.succeeded() => counts.status_2xx += 1,
                    Some(503) => counts.status_503 += 1,
                    Some(504) => counts.status_504 += 1,
                    _ => counts.other += 1,
                }
            }
            counts
        })
        .collect()
}

pub(super) fn users(observed: Observed<'_>) -> Vec<UserCounts> {
    let mut users: Vec<UserCounts> = (0..observed.clients)
        .map(|client| UserCounts {
            client,
            ..UserCounts::default()
        })
        .collect();
    for record in observed.records {
        if let Some(user) = users.get_mut(record.client) {
            user.requests += 1;
            user.status_2xx += u64::from(record.succeeded());
        }
    }
    for row in observed.rows() {
        if let Some(user) = users.get_mut(row.client) {
            user.rows += 1;
        }
    }
    users
}
