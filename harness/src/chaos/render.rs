//! The chaos report as plain text: the faults as they ran, the counts, latency and recovery,
//! each user's figures, the invariants, and one closing line with the counts that matter.

use std::fmt::Write;

use super::ChaosReport;
use crate::bench::render::Table;
use crate::run::Outcome;

pub fn render(report: &ChaosReport) -> String {
    let verdict = &report.verdict;
    let counts = &verdict.counts;
    let timeouts = match (report.auth_timeout_ms, report.db_timeout_ms) {
        (Some(auth), Some(db)) => format!("auth {auth} ms, db {db} ms"),
        _ => "unknown".to_owned(),
    };
    let mut out = format!(
        "harness chaos · {} · {} clients · {:.1} s of load ({:.1} s asked) · service timeouts: \
         {timeouts}\n{}\n",
        report.provider,
        report.clients,
        report.load_ms / 1e3,
        report.duration_ms / 1e3,
        report.request,
    );

    out.push_str("\nFaults, in order (ms from the start of the load)\n");
    let mut faults = Table::default();
    faults.row(["action", "planned", "started", "took"]);
    for step in &report.schedule {
        faults.row([
            step.action.clone(),
            format!("{:.0}", step.planned_ms),
            format!("{:.0}", step.started_ms),
            format!("{:.1}", step.took_ms),
        ]);
    }
    out.push_str(&faults.render());

    out.push_str("\nWhat each fault did (requests that ran while it may have been in force)\n");
    let mut effects = Table::default();
    effects.row([
        "fault", "from", "until", "requests", "2xx", "503s", "504s", "other",
    ]);
    for fault in &verdict.faults {
        effects.row([
            fault.fault.clone(),
            format!("{:.0}", fault.from_ms),
            format!("{:.0}", fault.until_ms),
            fault.requests.to_string(),
            fault.status_2xx.to_string(),
            fault.status_503.to_string(),
            fault.status_504.to_string(),
            fault.other.to_string(),
        ]);
    }
    out.push_str(&effects.render());

    // An empty first cell: the table left-aligns its first column, and figures read better
    // right-aligned.
    out.push_str("\nCounts\n");
    let other: u64 = counts.other.values().sum();
    let mut table = Table::default();
    table.row([
        "",
        "requests",
        "2xx",
        "503s",
        "504s",
        "other",
        "rows",
        "lost writes",
        "unacknowledged rows",
    ]);
    table.row(
        std::iter::once(String::new()).chain(
            [
                counts.requests,
                counts.status_2xx,
                counts.status_503,
                counts.status_504,
                other,
                counts.rows,
                counts.lost_writes,
                counts.unacknowledged_rows,
            ]
            .map(|n| n.to_string()),
        ),
    );
    out.push_str(&table.render());
    for (status, count) in &counts.other {
        writeln!(out, "  other status {status}: {count}").unwrap();
    }
    writeln!(
        out,
        "  failed while a fault was in force: {}; at other times: {}",
        counts.failures_during_faults, counts.failures_outside_faults
    )
    .unwrap();

    out.push_str("\nLatency and recovery (ms)\n");
    let mut latency = Table::default();
    latency.row([
        "",
        "max",
        "p99",
        "bound",
        "last clear at",
        "first 2xx after it",
    ]);
    let recovery = &verdict.recovery;
    let maybe = |value: Option<f64>| value.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"));
    latency.row([
        String::new(),
        format!("{:.1}", verdict.latency.max_ms),
        format!("{:.1}", verdict.latency.p99_ms),
        verdict
            .latency
            .bound_ms
            .map_or_else(|| "-".to_owned(), |bound| format!("{bound:.0}")),
        maybe(recovery.last_clear_ms),
        maybe(recovery.first_2xx_after_ms),
    ]);
    out.push_str(&latency.render());

    out.push_str("\nPer user (one client each)\n");
    let mut users = Table::default();
    users.row(["client", "requests", "2xx", "rows"]);
    for user in &verdict.users {
        users.row(
            [
                user.client as u64,
                user.requests,
                user.status_2xx,
                user.rows,
            ]
            .map(|n| n.to_string()),
        );
    }
    out.push_str(&users.render());

    out.push_str("\nInvariants\n");
    for result in &verdict.invariants {
        writeln!(
            out,
            "{:<9}  {}: {}",
            result.outcome.word(),
            result.name,
            result.detail
        )
        .unwrap();
        for finding in &result.findings {
            writeln!(out, "           {finding}").unwrap();
        }
    }
    let violated = verdict
        .invariants
        .iter()
        .filter(|result| result.outcome == Outcome::Violated)
        .count();
    let word = match violated {
        0 => "invariants held".to_owned(),
        n => format!("{n} invariant(s) VIOLATED"),
    };
    writeln!(
        out,
        "\nchaos: {word} · requests {} · 2xx {} · 503s {} · 504s {} · other {other} · rows {} \
         · lost writes {} · unacknowledged rows {}",
        counts.requests,
        counts.status_2xx,
        counts.status_503,
        counts.status_504,
        counts.rows,
        counts.lost_writes,
        counts.unacknowledged_rows
    )
    .unwrap();
    out
}
