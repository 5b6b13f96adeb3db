//! `harness up`: a stack in the foreground, like `supabase start` without Docker, and in a
//! project its services too (their output echoed as `[name] line`). It prints where everything
//! is, waits for SIGINT or SIGTERM, then stops the services, the servers and removes its files
//! before exiting 0.

use std::io::Write;

use super::project::Session;
use anyhow::Context;
use clap::{Args, ValueEnum};
use tokio::signal::unix::{SignalKind, signal};

#[derive(Debug, Args)]
pub(crate) struct UpArgs {
    /// How to print the stack's settings on stdout.
    #[arg(long, value_enum, default_value_t = Output::Pretty)]
    output: Output,
    #[command(flatten)]
    provider: super::provider::ProviderArgs,
    #[command(flatten)]
    project: super::project::ProjectArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Output {
    /// A panel for humans, like `supabase status`.
    Pretty,
    /// KEY=VALUE lines, as `supabase status -o env` (API_URL, REST_URL, DB_URL, AUTH_URL,
    /// PUBLISHABLE_KEY, SECRET_KEY, JWT_SECRET, ANON_KEY, SERVICE_ROLE_KEY, FAULTS_URL,
    /// STAGE_<NAME>_URL, and a project's SERVICE_<NAME>_URL).
    Env,
}

pub(crate) fn run(args: UpArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(up(args))
}

async fn up(args: UpArgs) -> anyhow::Result<()> {
    // Listen before booting, so a signal during startup is not lost (nor fatal).
    let mut interrupt = signal(SignalKind::interrupt()).context("listening for SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;

    let project = args.project.load()?;
    let say = |text: &str| eprintln!("harness: {text}");
    let session = Session::start(args.provider.builder(), project.as_ref(), true, &say);
    let mut session = tokio::select! {
        session = session => session?,
        _ = interrupt.recv() => return Ok(()),
        _ = terminate.recv() => return Ok(()),
    };
    let text = match args.output {
        Output::Env => env_lines(&session),
        Output::Pretty => panel(&session),
    };
    // Not print!: a closed pipe must be an error that still stops the stack, not a panic.
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .context("writing the stack's settings to stdout")?;
    drop(stdout);

    // A dead server is said out loud once; requests that need it fail (503 from the reference,
    // 502 from the gateway).
    let mut watch = tokio::time::interval(std::time::Duration::from_millis(500));
    let (mut reported, mut service_reported) = (false, false);
    loop {
        tokio::select! {
            _ = interrupt.recv() => { tracing::info!("SIGINT: stopping"); break }
            _ = terminate.recv() => { tracing::info!("SIGTERM: stopping"); break }
            _ = watch.tick(), if !(reported && service_reported) => {
                if !reported && let Some(death) = session.stack_mut().exited_process().await {
                    tracing::error!("{death}");
                    reported = true;
                }
                if !service_reported
                    && let Some(Err(death)) = session.services().map(|s| s.check_all())
                {
                    tracing::error!("{death}");
                    service_reported = true;
                }
            }
        }
    }
    session.stop().await
}

/// `SERVICE_WEB_URL` for the service `web`.
fn service_variable(name: &str) -> String {
    let upper: String = name
        .chars()
        .map(|c| match c {
            '-' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect();
    format!("SERVICE_{upper}_URL")
}

fn service_urls(session: &Session) -> Vec<(String, String)> {
    session.services().map_or_else(Vec::new, |s| s.urls())
}

fn env_lines(session: &Session) -> String {
    let services = service_urls(session)
        .into_iter()
        .map(|(name, url)| (service_variable(&name), url));
    session
        .stack()
        .env()
        .into_iter()
        .chain(services)
        .map(|(key, value)| format!("{key}={value}\n"))
        .collect()
}

fn panel(session: &Session) -> String {
    let stack = session.stack();
    let mut rows = vec![
        ("API URL", stack.api_url().to_owned()),
        ("REST URL", stack.rest_url()),
        ("Auth URL (GoTrue root)", stack.auth_url().to_owned()),
        ("DB URL (service)", stack.authenticator_db_url()),
        ("DB URL (superuser)", stack.db_url().to_owned()),
        ("Keys", stack.keys().initial().profile().to_string()),
    ];
    // The CLI's panel shows these two under Authentication Keys; legacy stacks have neither.
    if let Some(key) = stack.publishable_key() {
        rows.push(("Publishable", key.to_owned()));
    }
    if let Some(key) = stack.secret_key() {
        rows.push(("Secret", key.to_owned()));
    }
    rows.extend([
        ("JWT secret", stack.jwt_secret().to_owned()),
        ("anon key", stack.anon_key().to_owned()),
        ("service_role key", stack.service_role_key().to_owned()),
        ("Logs", stack.dir().display().to_string()),
    ]);
    if let Some(faults) = stack.faults() {
        rows.push((
            "Faults URL (Toxiproxy API)",
            faults.proxy().url().to_owned(),
        ));
    }
    let stage_rows: Vec<(String, String)> = stack
        .stages()
        .urls()
        .map(|(stage, url)| (format!("stage {stage}"), url.to_owned()))
        .collect();
    rows.extend(
        stage_rows
            .iter()
            .map(|(name, url)| (name.as_str(), url.clone())),
    );
    let service_rows: Vec<(String, String)> = service_urls(session)
        .into_iter()
        .map(|(name, url)| (format!("service {name}"), url))
        .chain(session.services().into_iter().flat_map(|s| {
            s.logs()
                .into_iter()
                .map(|(name, log)| (format!("service {name} log"), log.display().to_string()))
        }))
        .collect();
    rows.extend(
        service_rows
            .iter()
            .map(|(name, url)| (name.as_str(), url.clone())),
    );
    let width = rows.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    let mut text = String::from("supabase-harness stack is running. Press Ctrl-C to stop.\n\n");
    for (name, value) in rows {
        text.push_str(&format!("{name:>width$}: {value}\n"));
    }
    text
}
