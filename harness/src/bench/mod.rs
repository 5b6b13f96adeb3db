//! `harness bench`: how fast the stack boots, how fast the scenarios replay, and how close the
//! reference service gets to the physical limits measured in the same run (pgbench running the
//! service's own transaction, and the auth server's `GET /user` alone).
//!
//! Speed is why the harness exists, so the figures are measured, never assumed, and each sits
//! next to the limit or target it is judged by.

pub mod boot;
pub mod load;
pub mod memory;
pub mod pgbench;
pub mod render;
pub mod report;
pub mod stats;
mod suite;

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

pub use self::boot::{ColdProbe, boot_once};
pub use self::report::BenchReport;
use self::{
    load::{LoadFigures, Request},
    memory::{MemorySample, PeakSampler},
    report::{Boot, Level, Limits, Machine, Measured, Memory},
};
use crate::{Stack, StackError, scenario::Scenario};

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Stack(#[from] StackError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("pgbench: {0}")]
    Pgbench(String),
    #[error("setting up the load: {0}")]
    Setup(String),
    #[error("a cold boot probe failed: {0}")]
    ColdBoot(String),
}

impl BenchError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> BenchError {
        BenchError::Io {
            context: context.into(),
            source,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub warm_runs: usize,
    /// `None` skips the cold boots.
    pub cold: Option<(ColdProbe, usize)>,
    /// Per measurement and concurrency level.
    pub duration: Duration,
    pub levels: Vec<usize>,
    /// The key profile of every stack booted (None: the builder's default).
    pub keys: Option<crate::signing::KeyProfile>,
    /// Scenarios replayed at once, as `harness run --jobs`.
    pub jobs: usize,
}

/// What was measured: the service's stages run inside this binary, so its profile is theirs.
pub const BUILD: &str = if cfg!(debug_assertions) {
    "debug (unoptimised service and auth server: build with --release for its figures)"
} else {
    "release"
};

/// Runs everything; `progress` hears what is being measured.
pub async fn run(
    options: &Options,
    scenarios: &[Scenario],
    progress: &dyn Fn(&str),
) -> Result<BenchReport, BenchError> {
    progress("booting the stack for the suite and the load");
    // Memory and pgbench need the servers' processes: always native here.
    let stack = builder(options)
        .provider(crate::stack::Provider::Native)
        .fault_proxy(false)
        .start()
        .await?;
    let idle = MemorySample::take(
        stack.postgres_pid().expect("the bench runs a native stack"),
        stack.auth_pid().expect("the bench runs a native stack"),
    );

    // The suite on a stack of its own, with the fault proxy its fault scenarios need; the load
    // below goes straight to the servers, as pgbench does.
    progress(&format!(
        "replaying {} scenarios, {} at a time",
        scenarios.len(),
        options.jobs
    ));
    let suite_stack = builder(options)
        .provider(crate::stack::Provider::Native)
        .start()
        .await?;
    let suite = suite::replay(&suite_stack, scenarios, options).await?;
    suite_stack.stop().await?;

    let levels = throughput(&stack, options, progress).await;
    stack.stop().await?;
    let (levels, under_load) = levels?;

    let mut warm = Vec::with_capacity(options.warm_runs);
    for run in 1..=options.warm_runs {
        progress(&format!("warm boot {run}/{}", options.warm_runs));
        warm.push(boot_once().await?);
    }
    let native_cold = match &options.cold {
        None => Measured::NotMeasured("skipped (--skip-cold)".to_owned()),
        Some((probe, runs)) => {
            let mut cold = Vec::with_capacity(*runs);
            for run in 1..=*runs {
                progress(&format!("cold boot {run}/{runs} (empty template cache)"));
                cold.push(boot::cold_boot(probe).await?);
            }
            measured(stats::Spread::of(&cold), "no runs")
        }
    };
    let boot = Boot {
        native_warm: measured(stats::Spread::of(&warm), "no runs (--runs 0)"),
        native_cold,
        containers: boot::containers(options.warm_runs, progress).await,
    };
    let memory = Memory { idle, under_load };
    let targets = report::check_targets(&boot, &suite, &levels, &memory);
    Ok(BenchReport {
        machine: machine(),
        load_generator: load::LOAD_GENERATOR.to_owned(),
        build: BUILD.to_owned(),
        boot,
        suite,
        throughput: levels,
        memory,
        targets,
    })
}

fn measured<T>(figures: Option<T>, otherwise: &str) -> Measured<T> {
    figures.map_or_else(
        || Measured::NotMeasured(otherwise.to_owned()),
        Measured::Figures,
    )
}

/// A builder with the bench's key profile.
fn builder(options: &Options) -> crate::StackBuilder {
    match &options.keys {
        Some(profile) => Stack::builder().keys(profile.clone()),
        None => Stack::builder(),
    }
}

/// Every level: the service, then GET /user, then pgbench; memory sampled at the top level.
async fn throughput(
    stack: &Stack,
    options: &Options,
    progress: &dyn Fn(&str),
) -> Result<(Vec<Level>, MemorySample), BenchError> {
    let user = sign_up(stack).await?;
    let service = Request {
        method: reqwest::Method::POST,
        url: format!(
            "{}/api/session/create",
            stack.stages().url(service::Stage::Reference)
        ),
        headers: vec![
            (
                "authorization".into(),
                format!("Bearer {}", user.access_token),
            ),
            ("content-type".into(), "application/json".into()),
        ],
        body: Some("{}".to_owned()),
        expect: 200,
    };
    let local = Request {
        url: format!(
            "{}/api/session/create",
            stack.stages().url(service::Stage::ReferenceLocal)
        ),
        ..service.clone()
    };
    // What supabase-js sends for `.from('sessions').insert(row).select('id').single()`.
    let gateway = Request {
        method: reqwest::Method::POST,
        url: format!("{}/sessions?select=id", stack.rest_url()),
        headers: vec![
            ("apikey".into(), stack.anon_key().to_owned()),
            (
                "authorization".into(),
                format!("Bearer {}", user.access_token),
            ),
            ("content-type".into(), "application/json".into()),
            ("content-profile".into(), "public".into()),
            ("prefer".into(), "return=representation".into()),
            ("accept".into(), "application/vnd.pgrst.object+json".into()),
        ],
        body: Some(json!({ "user_id": user.id, "turn_count": 0 }).to_string()),
        expect: 201,
    };
    let get_user = Request {
        method: reqwest::Method::GET,
        url: format!("{}/user", stack.auth_url()),
        headers: vec![
            ("apikey".into(), stack.anon_key().to_owned()),
            (
                "authorization".into(),
                format!("Bearer {}", user.access_token),
            ),
        ],
        body: None,
        expect: 200,
    };
    let pgbench = pgbench::locate(stack.postgres_pid().expect("the bench runs a native stack"));
    let script_dir = tempfile::tempdir().map_err(|e| BenchError::io("a temp dir", e))?;
    let insert_file = script_dir.path().join("session_create.sql");
    let whole_file = script_dir.path().join("whole_request.sql");
    let claims = crate::run::tokens::claims_of(&user.access_token)
        .map_err(|e| BenchError::Setup(format!("reading the user's token claims: {e}")))?;
    std::fs::write(&insert_file, pgbench::SCRIPT)
        .map_err(|e| BenchError::io("writing the pgbench script", e))?;
    std::fs::write(&whole_file, pgbench::whole_request_script())
        .map_err(|e| BenchError::io("writing the whole-request pgbench script", e))?;
    let variables = pgbench::variables(&user.id, &serde_json::Value::Object(claims));
    let (port, superuser) = login_of(stack.db_url())?;
    // The insert as the service logs in; the whole request as a role that may also read `auth`.
    let insert_only = (
        pgbench::Login {
            port,
            user: "authenticator",
        },
        insert_file.as_path(),
    );
    let whole_request = (
        pgbench::Login {
            port,
            user: &superuser,
        },
        whole_file.as_path(),
    );

    let top = options.levels.iter().copied().max().unwrap_or(0);
    let mut levels = Vec::new();
    let mut under_load = MemorySample::default();
    for &clients in &options.levels {
        progress(&format!("POST /api/session/create, {clients} clients"));
        let sampler = (clients == top).then(|| {
            PeakSampler::start(
                stack.postgres_pid().expect("the bench runs a native stack"),
                stack.auth_pid().expect("the bench runs a native stack"),
            )
        });
        let service_figures: LoadFigures = load::run(&service, clients, options.duration).await;
        if let Some(sampler) = sampler {
            under_load = sampler.stop();
        }
        progress(&format!(
            "POST /api/session/create on reference-local, {clients} clients"
        ));
        let local_figures = load::run(&local, clients, options.duration).await;
        progress(&format!(
            "POST /rest/v1/sessions through the gateway, {clients} clients"
        ));
        let gateway_figures = load::run(&gateway, clients, options.duration).await;
        progress(&format!("GET /user, {clients} clients"));
        let auth_figures = load::run(&get_user, clients, options.duration).await;
        let mut limits = Vec::new();
        for (what, (login, script)) in [("insert", insert_only), ("whole request", whole_request)] {
            progress(&format!("pgbench ({what}), {clients} clients"));
            limits.push(match &pgbench {
                Ok(path) => {
                    pgbench::run(path, login, script, &variables, clients, options.duration)
                        .await
                        .map_or_else(|e| Measured::NotMeasured(e.to_string()), Measured::Figures)
                }
                Err(error) => Measured::NotMeasured(error.to_string()),
            });
        }
        let [pgbench_insert, pgbench_whole] = <[_; 2]>::try_from(limits).expect("two limits");
        levels.push(Level::new(
            service_figures,
            Limits {
                insert: pgbench_insert,
                whole_request: pgbench_whole,
            },
            auth_figures,
            local_figures,
            gateway_figures,
        ));
    }
    Ok((levels, under_load))
}

struct SignedUp {
    id: String,
    access_token: String,
}

/// One real user through the auth server's own sign-up.
async fn sign_up(stack: &Stack) -> Result<SignedUp, BenchError> {
    #[derive(Deserialize)]
    struct Session {
        access_token: String,
        user: User,
    }
    #[derive(Deserialize)]
    struct User {
        id: String,
    }
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let url = format!("{}/signup", stack.auth_url());
    let response = reqwest::Client::new()
        .post(&url)
        .header("apikey", stack.anon_key())
        .json(&json!({ "email": format!("bench-{}@example.test", &suffix[..12]), "password": format!("bench-{suffix}") }))
        .send()
        .await
        .map_err(|e| BenchError::Setup(format!("POST {url}: {e}")))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if !status.is_success() {
        return Err(BenchError::Setup(format!(
            "POST {url} answered {status}: {body}"
        )));
    }
    let session: Session = serde_json::from_str(&body)
        .map_err(|e| BenchError::Setup(format!("POST {url} gave no session ({e}): {body}")))?;
    Ok(SignedUp {
        id: session.user.id,
        access_token: session.access_token,
    })
}

/// The port and the (superuser) role of the stack's database URL.
fn login_of(db_url: &str) -> Result<(u16, String), BenchError> {
    url::Url::parse(db_url)
        .ok()
        .and_then(|url| Some((url.port()?, url.username().to_owned())))
        .filter(|(_, user)| !user.is_empty())
        .ok_or_else(|| BenchError::Setup(format!("no port or role in the database URL {db_url}")))
}

fn machine() -> Machine {
    let memory_kib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("MemTotal:"))
                .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
        })
        .unwrap_or(0);
    Machine {
        cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
        memory_gib: memory_kib as f64 / 1024.0 / 1024.0,
        measured_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }
}
