//! `harness up`: a stack in the foreground, like `supabase start` without Docker. It prints
//! where everything is, waits for SIGINT or SIGTERM, then stops the servers and removes its
//! files before exiting 0.

use std::io::Write;

use anyhow::Context;
use clap::{Args, ValueEnum};
use harness::Stack;
use tokio::signal::unix::{SignalKind, signal};

#[derive(Debug, Args)]
pub(crate) struct UpArgs {
    /// How to print the stack's settings on stdout.
    #[arg(long, value_enum, default_value_t = Output::Pretty)]
    output: Output,
    #[command(flatten)]
    provider: super::provider::ProviderArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Output {
    /// A panel for humans, like `supabase status`.
    Pretty,
    /// KEY=VALUE lines (DB_URL, AUTH_URL, JWT_SECRET, ANON_KEY, SERVICE_ROLE_KEY, API_URL,
    /// STAGE_<NAME>_URL).
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

    let mut stack = tokio::select! {
        stack = args.provider.start() => stack?,
        _ = interrupt.recv() => return Ok(()),
        _ = terminate.recv() => return Ok(()),
    };
    let text = match args.output {
        Output::Env => env_lines(&stack),
        Output::Pretty => panel(&stack),
    };
    // Not print!: a closed pipe must be an error that still stops the stack, not a panic.
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .context("writing the stack's settings to stdout")?;
    drop(stdout);

    // A dead server is said out loud once; requests that need it fail (503 from the reference).
    let mut watch = tokio::time::interval(std::time::Duration::from_millis(500));
    let mut reported = false;
    loop {
        tokio::select! {
            _ = interrupt.recv() => { tracing::info!("SIGINT: stopping"); break }
            _ = terminate.recv() => { tracing::info!("SIGTERM: stopping"); break }
            _ = watch.tick(), if !reported => {
                if let Some(death) = stack.exited_process().await {
                    tracing::error!("{death}");
                    reported = true;
                }
            }
        }
    }
    stack.stop().await.context("stopping the stack")
}

fn env_lines(stack: &Stack) -> String {
    stack
        .env()
        .into_iter()
        .map(|(key, value)| format!("{key}={value}\n"))
        .collect()
}

fn panel(stack: &Stack) -> String {
    let mut rows = vec![
        (
            "API URL (reference)",
            stack.stages().url(service::Stage::Reference).to_owned(),
        ),
        ("Auth URL", stack.auth_url().to_owned()),
        ("DB URL (service)", stack.authenticator_db_url()),
        ("DB URL (superuser)", stack.db_url().to_owned()),
        ("JWT secret", stack.jwt_secret().to_owned()),
        ("anon key", stack.anon_key().to_owned()),
        ("service_role key", stack.service_role_key().to_owned()),
        ("Logs", stack.dir().display().to_string()),
    ];
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
    let width = rows.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    let mut text = String::from("supabase-harness stack is running. Press Ctrl-C to stop.\n\n");
    for (name, value) in rows {
        text.push_str(&format!("{name:>width$}: {value}\n"));
    }
    text
}
