//! Resident memory of the native stack, read from /proc: the postmaster and all its children
//! plus the auth server. The service's stages run inside the harness, so the harness process is
//! reported on its own rather than mixed into the stack's figure.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

/// Memory at one moment (or the peak of many moments), in MiB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct MemorySample {
    /// Sum of VmRSS over the postmaster, its children and the auth server. Shared memory
    /// (shared_buffers) counts once per process that touched it, so this overstates.
    pub stack_rss_mib: f64,
    /// Sum of Pss (shared pages split between their users): closer to what the stack costs.
    pub stack_pss_mib: f64,
    pub postgres_processes: usize,
    /// VmRSS of the harness process, which serves the service's stages.
    pub harness_rss_mib: f64,
}

impl MemorySample {
    pub fn take(postmaster: u32, auth: u32) -> MemorySample {
        let mut pids = vec![postmaster];
        pids.extend(children_of(postmaster));
        let postgres_processes = pids.len();
        pids.push(auth);
        let kib = |field: &str, file: &str| -> u64 {
            pids.iter()
                .filter_map(|pid| field_kib(&format!("/proc/{pid}/{file}"), field))
                .sum()
        };
        MemorySample {
            stack_rss_mib: kib("VmRSS:", "status") as f64 / 1024.0,
            stack_pss_mib: kib("Pss:", "smaps_rollup") as f64 / 1024.0,
            postgres_processes,
            harness_rss_mib: field_kib("/proc/self/status", "VmRSS:").unwrap_or(0) as f64 / 1024.0,
        }
    }

    fn max(self, other: MemorySample) -> MemorySample {
        MemorySample {
            stack_rss_mib: self.stack_rss_mib.max(other.stack_rss_mib),
            stack_pss_mib: self.stack_pss_mib.max(other.stack_pss_mib),
            postgres_processes: self.postgres_processes.max(other.postgres_processes),
            harness_rss_mib: self.harness_rss_mib.max(other.harness_rss_mib),
        }
    }
}

/// Samples every 100 ms until stopped and keeps the peak of each figure.
pub struct PeakSampler {
    peak: Arc<Mutex<MemorySample>>,
    task: tokio::task::JoinHandle<()>,
}

impl PeakSampler {
    pub fn start(postmaster: u32, auth: u32) -> PeakSampler {
        let peak = Arc::new(Mutex::new(MemorySample::take(postmaster, auth)));
        let shared = Arc::clone(&peak);
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            loop {
                tick.tick().await;
                let now = MemorySample::take(postmaster, auth);
                let mut peak = shared.lock().expect("the sampler never panics holding it");
                *peak = peak.max(now);
            }
        });
        PeakSampler { peak, task }
    }

    pub fn stop(self) -> MemorySample {
        self.task.abort();
        *self
            .peak
            .lock()
            .expect("the sampler never panics holding it")
    }
}

fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| parent_of(*pid) == Some(parent))
        .collect()
}

/// The ppid from /proc/<pid>/stat; the command name in parentheses may hold spaces.
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(1)?.parse().ok()
}

fn field_kib(path: &str, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    parse_kib(&text, field)
}

fn parse_kib(text: &str, field: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_kib_fields_of_proc_files() {
        let status = "Name:\tpostgres\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\n";
        assert_eq!(parse_kib(status, "VmRSS:"), Some(10240));
        assert_eq!(parse_kib(status, "VmSwap:"), None);
    }

    #[test]
    fn the_harness_itself_has_a_resident_size_and_a_parent() {
        assert!(field_kib("/proc/self/status", "VmRSS:").unwrap() > 0);
        assert_eq!(
            parent_of(std::process::id()),
            Some(std::os::unix::process::parent_id())
        );
    }
}
