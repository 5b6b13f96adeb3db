//! The benchmark's results as one serializable value, and the targets checked against
//! them. The benchmark reports; nothing here fails a build over a time.

use serde::Serialize;

use super::{load::LoadFigures, memory::MemorySample, pgbench::PgbenchFigures, stats::Spread};

#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub machine: Machine,
    pub load_generator: String,
    /// `release` or `debug`: the figures of a debug build are not the service's.
    pub build: String,
    pub boot: Boot,
    pub suite: Suite,
    pub throughput: Vec<Level>,
    pub memory: Memory,
    pub targets: Vec<TargetCheck>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cores: usize,
    pub memory_gib: f64,
    /// UTC, RFC 3339.
    pub measured_at: String,
}

/// A measurement that may not have been taken, with the reason.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measured<T> {
    Figures(T),
    NotMeasured(String),
}

impl<T> Measured<T> {
    pub fn figures(&self) -> Option<&T> {
        match self {
            Measured::Figures(figures) => Some(figures),
            Measured::NotMeasured(_) => None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Boot {
    /// Template cached: copy the data directory, start PostgreSQL, the auth server, the stages.
    pub native_warm: Measured<Spread>,
    /// No template cached (a private XDG_CACHE_HOME): initdb and every migration first.
    pub native_cold: Measured<Spread>,
    pub containers: Measured<Spread>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Suite {
    pub scenarios: usize,
    pub steps: usize,
    pub failed_scenarios: usize,
    /// Each failed scenario and its first failure, so a failure during a bench is not a
    /// mystery: `fault-auth-process: step 6 "...": status: expected 503, got 200`.
    pub failures: Vec<String>,
    /// Scenarios replayed at once (`harness run --jobs`).
    pub jobs: usize,
    pub wall_ms: f64,
    /// Every scenario's own time added up: the wall time one job would take, about.
    pub scenario_sum_ms: f64,
    /// The longest scenario: no number of jobs makes the suite shorter than it.
    pub slowest: Option<Slowest>,
    pub per_step_mean_ms: f64,
    /// The scenarios that inject faults, and their share of `wall_ms`.
    pub fault_scenarios: usize,
    pub fault_wall_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Slowest {
    pub name: String,
    pub wall_ms: f64,
}

/// pgbench's two figures at one concurrency level.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The service's insert transaction alone.
    pub insert: Measured<PgbenchFigures>,
    /// Every statement one request causes: `GET /user`'s lookups, then the transaction.
    pub whole_request: Measured<PgbenchFigures>,
}

/// One concurrency level: the service, and its limits at the same concurrency.
#[derive(Debug, Clone, Serialize)]
pub struct Level {
    pub clients: usize,
    pub service: LoadFigures,
    /// The insert transaction alone.
    pub pgbench: Measured<PgbenchFigures>,
    /// Every statement the request causes, the auth server's lookups included.
    pub pgbench_whole_request: Measured<PgbenchFigures>,
    pub auth_get_user: LoadFigures,
    /// The same request on `reference-local`, which verifies the token itself (no GET /user).
    pub service_local: LoadFigures,
    /// The same insert as an app makes it: through the gateway to the data API
    /// (`POST /rest/v1/sessions`, the user's token, `.select('id').single()`).
    pub gateway_rest: LoadFigures,
    /// gateway + data API requests/s ÷ pgbench tps.
    pub gateway_over_pgbench: Option<f64>,
    /// service requests/s ÷ pgbench tps (insert only).
    pub service_over_pgbench: Option<f64>,
    /// service requests/s ÷ whole-request pgbench tps: how near the request's own limit.
    pub service_over_whole_request: Option<f64>,
    /// service requests/s ÷ GET /user requests/s.
    pub service_over_auth: Option<f64>,
    /// reference-local requests/s ÷ pgbench tps.
    pub local_over_pgbench: Option<f64>,
    /// reference-local requests/s ÷ reference requests/s.
    pub local_over_remote: Option<f64>,
}

impl Level {
    pub fn new(
        service: LoadFigures,
        limits: Limits,
        auth_get_user: LoadFigures,
        service_local: LoadFigures,
        gateway_rest: LoadFigures,
    ) -> Level {
        let over = |rate: f64, limit: f64| (limit > 0.0).then(|| rate / limit);
        let tps_of = |figures: &Measured<PgbenchFigures>| figures.figures().map_or(0.0, |p| p.tps);
        let tps = tps_of(&limits.insert);
        Level {
            clients: service.clients,
            service_over_pgbench: over(service.requests_per_s, tps),
            service_over_whole_request: over(service.requests_per_s, tps_of(&limits.whole_request)),
            service_over_auth: over(service.requests_per_s, auth_get_user.requests_per_s),
            local_over_pgbench: over(service_local.requests_per_s, tps),
            local_over_remote: over(service_local.requests_per_s, service.requests_per_s),
            gateway_over_pgbench: over(gateway_rest.requests_per_s, tps),
            gateway_rest,
            service,
            pgbench: limits.insert,
            pgbench_whole_request: limits.whole_request,
            auth_get_user,
            service_local,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Memory {
    pub idle: MemorySample,
    /// The peak of samples taken every 100 ms during the highest concurrency level.
    pub under_load: MemorySample,
}

/// One of the targets next to the figure it is about.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetCheck {
    pub name: String,
    pub figure: f64,
    pub unit: String,
    /// `≤` for a ceiling, `≥` for a floor.
    pub comparison: String,
    pub target: f64,
    /// figure ÷ target.
    pub ratio: f64,
    pub meets: bool,
}

impl TargetCheck {
    fn at_most(name: &str, figure: f64, target: f64, unit: &str) -> TargetCheck {
        TargetCheck::new(name, figure, target, unit, "≤", figure <= target)
    }

    fn at_least(name: &str, figure: f64, target: f64, unit: &str) -> TargetCheck {
        TargetCheck::new(name, figure, target, unit, "≥", figure >= target)
    }

    fn new(name: &str, figure: f64, target: f64, unit: &str, cmp: &str, meets: bool) -> Self {
        TargetCheck {
            name: name.to_owned(),
            figure,
            unit: unit.to_owned(),
            comparison: cmp.to_owned(),
            target,
            ratio: figure / target,
            meets,
        }
    }
}

/// The targets for this 2-core machine, for the figures that were measured.
pub fn check_targets(
    boot: &Boot,
    suite: &Suite,
    levels: &[Level],
    memory: &Memory,
) -> Vec<TargetCheck> {
    let mut checks = Vec::new();
    if let Some(warm) = boot.native_warm.figures() {
        checks.push(TargetCheck::at_most(
            "warm native boot (median)",
            warm.median_ms,
            1000.0,
            "ms",
        ));
    }
    if let Some(cold) = boot.native_cold.figures() {
        checks.push(TargetCheck::at_most(
            "cold native boot (median)",
            cold.median_ms,
            3000.0,
            "ms",
        ));
    }
    checks.push(TargetCheck::at_most(
        "all scenarios after boot",
        suite.wall_ms,
        5000.0,
        "ms",
    ));
    if let Some(top) = levels.iter().max_by_key(|level| level.clients) {
        let name = format!("service/whole-request pgbench at {} clients", top.clients);
        if let Some(ratio) = top.service_over_whole_request {
            checks.push(TargetCheck::at_least(&name, ratio * 100.0, 80.0, "%"));
        }
        let name = format!("service p99 at {} clients", top.clients);
        checks.push(TargetCheck::at_most(&name, top.service.p99_ms, 20.0, "ms"));
        if let Some(ratio) = top.local_over_pgbench {
            let name = format!("local validation/pgbench at {} clients", top.clients);
            checks.push(TargetCheck::at_least(&name, ratio * 100.0, 80.0, "%"));
        }
    }
    checks.push(TargetCheck::at_most(
        "native stack idle (RSS sum)",
        memory.idle.stack_rss_mib,
        150.0,
        "MiB",
    ));
    checks
}
