//! Boot times from call to ready. Warm boots run in the harness; cold boots run in a child
//! process with its own empty XDG_CACHE_HOME, so the template is rebuilt from scratch while the
//! user's cache is neither used nor touched (the cache location is read from the environment,
//! which a multi-threaded process must not change under itself). Container boots use the
//! locally built images, already present: the time is the engine's, not a download's.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::BenchError;
use super::report::Measured;
use super::stats::Spread;
use crate::Stack;
use crate::stack::{Provider, containers, containers::ImageChoice};

/// A program that boots one stack and prints `boot_us=<microseconds>` (what `harness bench`
/// runs for cold boots, so that a private XDG_CACHE_HOME applies to it alone).
#[derive(Debug, Clone)]
pub struct ColdProbe {
    pub program: PathBuf,
    pub args: Vec<String>,
}

/// Boots one native stack and stops it; the time is from the call to ready.
pub async fn boot_once() -> Result<Duration, BenchError> {
    // Native whatever HARNESS_PROVIDER says: this is the native row.
    boot_with(Provider::Native).await
}

async fn boot_with(provider: Provider) -> Result<Duration, BenchError> {
    let started = Instant::now();
    let stack = Stack::builder()
        .provider(provider)
        .images(ImageChoice::Local)
        .start()
        .await?;
    let elapsed = started.elapsed();
    stack.stop().await?;
    Ok(elapsed)
}

/// `runs` boots of the containers provider with the local images; "not measured: <why>" when no
/// Docker engine answers, the images are missing, or a boot fails (the other rows still count).
pub(super) async fn containers(runs: usize, progress: &dyn Fn(&str)) -> Measured<Spread> {
    let not_measured = |why: String| Measured::NotMeasured(format!("not measured: {why}"));
    if runs == 0 {
        return not_measured("no runs (--runs 0)".into());
    }
    if let Err(why) = containers::availability(ImageChoice::Local).await {
        return not_measured(why);
    }
    let mut boots = Vec::with_capacity(runs);
    for run in 1..=runs {
        progress(&format!("containers boot {run}/{runs} (local images)"));
        match boot_with(Provider::Containers).await {
            Ok(elapsed) => boots.push(elapsed),
            Err(error) => return not_measured(format!("boot {run}/{runs} failed: {error}")),
        }
    }
    Spread::of(&boots).map_or_else(|| not_measured("no runs".into()), Measured::Figures)
}

/// Runs the probe with a fresh, empty XDG_CACHE_HOME, so the template is built from scratch
/// and the user's own cache is neither used nor touched.
pub(super) async fn cold_boot(probe: &ColdProbe) -> Result<Duration, BenchError> {
    let cache = tempfile::tempdir().map_err(|e| BenchError::io("a temp cache dir", e))?;
    let output = tokio::process::Command::new(&probe.program)
        .args(&probe.args)
        .env("XDG_CACHE_HOME", cache.path())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| BenchError::io(format!("running {}", probe.program.display()), e))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let micros = stdout
        .lines()
        .find_map(|line| line.strip_prefix("boot_us="))
        .and_then(|n| n.trim().parse::<u64>().ok());
    match micros {
        Some(micros) if output.status.success() => Ok(Duration::from_micros(micros)),
        _ => Err(BenchError::ColdBoot(format!(
            "{} exited with {}: {}{}",
            probe.program.display(),
            output.status,
            stdout.trim(),
            String::from_utf8_lossy(&output.stderr).trim()
        ))),
    }
}
