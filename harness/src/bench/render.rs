//! The report as aligned plain-text tables, each figure beside its limit or target.

use std::fmt::Write;

use super::pgbench::PgbenchFigures;
use super::report::{BenchReport, Measured, TargetCheck};
use super::stats::Spread;

/// Rows of cells: the first column left-aligned, the others right-aligned.
#[derive(Debug, Default)]
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn row<I: IntoIterator<Item = S>, S: Into<String>>(&mut self, cells: I) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    pub fn render(&self) -> String {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                self.rows
                    .iter()
                    .filter_map(|row| row.get(c))
                    .map(|cell| cell.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for row in &self.rows {
            let mut line = String::new();
            for (c, cell) in row.iter().enumerate() {
                let pad = widths[c] - cell.chars().count();
                if c == 0 {
                    line.push_str(cell);
                    line.push_str(&" ".repeat(pad));
                } else {
                    line.push_str("  ");
                    line.push_str(&" ".repeat(pad));
                    line.push_str(cell);
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

fn num(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

fn ratio(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |r| format!("{r:.2}"))
}

fn verdict(check: &TargetCheck) -> String {
    format!(
        "{} {} {} → {:.2}× {}",
        check.comparison,
        num(check.target),
        check.unit,
        check.ratio,
        if check.meets { "meets" } else { "misses" }
    )
}

fn target_for(report: &BenchReport, prefix: &str) -> String {
    report
        .targets
        .iter()
        .find(|check| check.name.starts_with(prefix))
        .map_or_else(String::new, verdict)
}

pub fn render(report: &BenchReport) -> String {
    let mut out = String::new();
    let m = &report.machine;
    let _ = writeln!(
        out,
        "harness bench · {} cores, {:.1} GiB · {}",
        m.cores, m.memory_gib, m.measured_at
    );
    let _ = writeln!(out, "load generator: {}", report.load_generator);
    let _ = writeln!(out, "build: {}\n", report.build);

    out.push_str("Stack boot, from call to ready\n");
    let mut boot = Table::default();
    boot.row([
        "provider",
        "median ms",
        "min ms",
        "max ms",
        "runs",
        "target",
    ]);
    let mut spread_row = |name: &str, measured: &Measured<Spread>, target: String| match measured {
        Measured::Figures(s) => boot.row([
            name.to_owned(),
            num(s.median_ms),
            num(s.min_ms),
            num(s.max_ms),
            s.runs.to_string(),
            target,
        ]),
        // In the last column, so the reason does not widen the number columns.
        Measured::NotMeasured(why) => {
            boot.row([name, "-", "-", "-", "0", why.as_str()].map(str::to_owned))
        }
    };
    let b = &report.boot;
    spread_row(
        "native, warm (template cached)",
        &b.native_warm,
        target_for(report, "warm"),
    );
    spread_row(
        "native, cold (no template cached)",
        &b.native_cold,
        target_for(report, "cold"),
    );
    spread_row("containers (images present)", &b.containers, String::new());
    out.push_str(&boot.render());

    let s = &report.suite;
    let _ = writeln!(
        out,
        "\nScenario suite, {} at a time (faults on stacks of their own, the rest sharing one)\n{} scenarios ({} failed), {} steps: {} ms wall, {} ms per step (mean)  {}",
        s.jobs,
        s.scenarios,
        s.failed_scenarios,
        s.steps,
        num(s.wall_ms),
        num(s.per_step_mean_ms),
        target_for(report, "all scenarios"),
    );
    for failure in &s.failures {
        let _ = writeln!(out, "  failed: {failure}");
    }
    let _ = writeln!(
        out,
        "  scenarios' own times added up: {} ms ({}× the wall time)",
        num(s.scenario_sum_ms),
        num(if s.wall_ms > 0.0 {
            s.scenario_sum_ms / s.wall_ms
        } else {
            0.0
        }),
    );
    if let Some(slowest) = &s.slowest {
        let _ = writeln!(
            out,
            "  slowest scenario: {} {} ms (the floor for any number of jobs)",
            slowest.name,
            num(slowest.wall_ms),
        );
    }
    let _ = writeln!(
        out,
        "  of which {} fault scenarios: {} ms, mostly the service's timeouts they wait out on purpose",
        s.fault_scenarios,
        num(s.fault_wall_ms),
    );

    out.push_str(
        "\nPOST /api/session/create (reference stage) against its limits at the same concurrency\n",
    );
    let mut load = Table::default();
    load.row([
        "clients",
        "service req/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "insert tps",
        "svc/insert",
        "whole tps",
        "svc/whole",
        "GET /user req/s",
        "p50 ms",
        "p99 ms",
        "svc/auth",
    ]);
    let mut notes = Vec::new();
    for level in &report.throughput {
        let (sv, au) = (&level.service, &level.auth_get_user);
        let mut tps = |what: &str, measured: &Measured<PgbenchFigures>| match measured {
            Measured::Figures(p) => num(p.tps),
            Measured::NotMeasured(why) => {
                notes.push(format!(
                    "pgbench ({what}) at {} clients: {why}",
                    level.clients
                ));
                "-".to_owned()
            }
        };
        let (insert_tps, whole_tps) = (
            tps("insert", &level.pgbench),
            tps("whole request", &level.pgbench_whole_request),
        );
        for (what, figures) in [("service", sv), ("GET /user", au)] {
            if let Some(error) = &figures.first_error {
                notes.push(format!(
                    "{what} at {} clients: {} errors, first: {error}",
                    level.clients, figures.errors
                ));
            }
        }
        load.row([
            level.clients.to_string(),
            num(sv.requests_per_s),
            num(sv.p50_ms),
            num(sv.p99_ms),
            (sv.errors + au.errors).to_string(),
            insert_tps,
            ratio(level.service_over_pgbench),
            whole_tps,
            ratio(level.service_over_whole_request),
            num(au.requests_per_s),
            num(au.p50_ms),
            num(au.p99_ms),
            ratio(level.service_over_auth),
        ]);
    }
    out.push_str(&load.render());
    out.push_str(
        "  pgbench, same clients: insert = the service's transaction as `authenticator`; whole = \
         GET /user's three lookups, then that transaction\n",
    );
    for note in notes {
        let _ = writeln!(out, "  note: {note}");
    }
    let _ = writeln!(
        out,
        "  targets: svc/whole {}; p99 {}",
        target_for(report, "service/whole-request"),
        target_for(report, "service p99")
    );

    out.push_str(
        "\nThe same request on reference-local: the token verified locally (the secret or the cached JWKS), no GET /user\n",
    );
    let mut local = Table::default();
    local.row([
        "clients",
        "req/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "local/pgbench",
        "local/remote",
    ]);
    for level in &report.throughput {
        let figures = &level.service_local;
        local.row([
            level.clients.to_string(),
            num(figures.requests_per_s),
            num(figures.p50_ms),
            num(figures.p99_ms),
            figures.errors.to_string(),
            ratio(level.local_over_pgbench),
            ratio(level.local_over_remote),
        ]);
    }
    out.push_str(&local.render());
    let _ = writeln!(out, "  target: {}", target_for(report, "local validation"));

    out.push_str(
        "\nThe same insert as an app makes it: the gateway, then the data API (POST /rest/v1/sessions, .select('id').single())\n",
    );
    let mut gateway = Table::default();
    gateway.row([
        "clients",
        "req/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "api/pgbench",
    ]);
    for level in &report.throughput {
        let figures = &level.gateway_rest;
        gateway.row([
            level.clients.to_string(),
            num(figures.requests_per_s),
            num(figures.p50_ms),
            num(figures.p99_ms),
            figures.errors.to_string(),
            ratio(level.gateway_over_pgbench),
        ]);
    }
    out.push_str(&gateway.render());

    out.push_str("\nMemory, MiB (the service's stages run inside the harness: its RSS is apart)\n");
    let mut memory = Table::default();
    memory.row([
        "",
        "stack RSS sum",
        "stack PSS sum",
        "pg processes",
        "harness RSS",
    ]);
    let top = report
        .throughput
        .iter()
        .map(|l| l.clients)
        .max()
        .unwrap_or(0);
    let under_load = format!("under load ({top} clients, peak)");
    for (name, sample) in [
        ("idle", &report.memory.idle),
        (under_load.as_str(), &report.memory.under_load),
    ] {
        memory.row([
            name.to_owned(),
            num(sample.stack_rss_mib),
            num(sample.stack_pss_mib),
            sample.postgres_processes.to_string(),
            num(sample.harness_rss_mib),
        ]);
    }
    out.push_str(&memory.render());
    let _ = writeln!(
        out,
        "  target: idle {}",
        target_for(report, "native stack idle")
    );

    out.push_str("\nTargets (reported, never asserted)\n");
    let mut targets = Table::default();
    for check in &report.targets {
        targets.row([
            check.name.clone(),
            format!("{} {}", num(check.figure), check.unit),
            verdict(check),
        ]);
    }
    out.push_str(&targets.render());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_the_first_column_left_and_the_rest_right() {
        let mut table = Table::default();
        table.row(["name", "ms"]);
        table.row(["warm", "412"]);
        table.row(["a longer name", "7"]);
        assert_eq!(
            table.render(),
            "name            ms\nwarm           412\na longer name    7\n"
        );
    }

    #[test]
    fn numbers_keep_a_decimal_only_when_small() {
        assert_eq!(num(1234.56), "1235");
        assert_eq!(num(12.34), "12.3");
        assert_eq!(ratio(Some(0.456)), "0.46");
        assert_eq!(ratio(None), "-");
    }
}
