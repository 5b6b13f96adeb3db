//! Where stacks keep their files: RAM-backed `/dev/shm` when it is roomy, else the temp dir.
//!
//! Copying the ~30 MB template is most of a warm boot. On a loaded disk it takes over a second,
//! on tmpfs well under 100 ms, and a test database has no reason to outlive a reboot. An
//! explicit TMPDIR always wins (it is how a caller chooses, and how tests watch for leftovers);
//! a small /dev/shm (Docker gives containers 64 MB) is skipped, as a few stacks would fill it.

use std::{ffi::CString, os::unix::ffi::OsStrExt, path::Path, path::PathBuf};

use tempfile::TempDir;

use super::StackError;

const SHM: &str = "/dev/shm";
/// Room for a few dozen parallel stacks.
const MIN_SHM_FREE: u64 = 1 << 30;

/// A new private directory named `<prefix><our pid>-XXXXXX` under the chosen base.
///
/// The pid in the name lets a later stack recognise the directories of a harness that was
/// killed before it could clean up (its children die with it, its files do not) and remove
/// them: on tmpfs they would otherwise hold memory until the next reboot.
pub(crate) fn scratch_dir(prefix: &str) -> Result<TempDir, StackError> {
    let base = base();
    remove_orphans(&base, prefix);
    tempfile::Builder::new()
        .prefix(&format!("{prefix}{}-", std::process::id()))
        .tempdir_in(&base)
        .map_err(|e| StackError::io(format!("creating a directory under {}", base.display()), e))
}

/// Removes `<prefix><pid>-*` directories whose harness process no longer exists.
fn remove_orphans(base: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(owner) = orphan_owner(&name.to_string_lossy(), prefix) else {
            continue;
        };
        // SAFETY: signal 0 sends nothing; it only asks whether the process exists.
        let alive = unsafe { libc::kill(owner as libc::pid_t, 0) == 0 }
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
        if !alive {
            tracing::info!(dir = %entry.path().display(), owner, "removing a killed harness's stack directory");
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The owner's pid in `<prefix><pid>-<random>`; `None` for any other name.
fn orphan_owner(name: &str, prefix: &str) -> Option<u32> {
    let (pid, random) = name.strip_prefix(prefix)?.split_once('-')?;
    (!random.is_empty() && !random.contains('-')).then_some(())?;
    pid.parse().ok()
}

fn base() -> PathBuf {
    if std::env::var_os("TMPDIR").is_some_and(|v| !v.is_empty()) {
        return std::env::temp_dir();
    }
    let shm = Path::new(SHM);
    if shm.is_dir() && free_bytes(shm).is_some_and(|free| free >= MIN_SHM_FREE) {
        return shm.to_path_buf();
    }
    std::env::temp_dir()
}

fn free_bytes(path: &Path) -> Option<u64> {
    let path = CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs fills the zeroed struct we pass; the path is NUL-terminated.
    unsafe {
        let mut stat: libc::statvfs = std::mem::zeroed();
        (libc::statvfs(path.as_ptr(), &mut stat) == 0
            && libc::access(path.as_ptr(), libc::W_OK) == 0)
            .then(|| stat.f_bavail as u64 * stat.f_frsize as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_own_naming_scheme_is_recognised() {
        assert_eq!(
            orphan_owner("supabase-harness-4242-a1B2c3", "supabase-harness-"),
            Some(4242)
        );
        // A template scratch directory is not a stack directory, and vice versa.
        assert_eq!(
            orphan_owner("supabase-harness-template-4242-a1B2c3", "supabase-harness-"),
            None
        );
        assert_eq!(
            orphan_owner(
                "supabase-harness-template-4242-a1B2c3",
                "supabase-harness-template-"
            ),
            Some(4242)
        );
        assert_eq!(
            orphan_owner("supabase-harness-a1B2c3", "supabase-harness-"),
            None
        );
        assert_eq!(
            orphan_owner("something-else-4242-x", "supabase-harness-"),
            None
        );
    }

    #[test]
    fn a_dead_owners_directory_is_removed_and_a_live_ones_kept() {
        let base = tempfile::tempdir().unwrap();
        let dead = base
            .path()
            .join(format!("supabase-harness-{}-dead00", dead_pid()));
        let live = base
            .path()
            .join(format!("supabase-harness-{}-live00", std::process::id()));
        let unrelated = base.path().join("supabase-harness-notapid");
        for dir in [&dead, &live, &unrelated] {
            std::fs::create_dir(dir).unwrap();
        }
        remove_orphans(base.path(), "supabase-harness-");
        assert!(!dead.exists());
        assert!(live.exists());
        assert!(unrelated.exists());
    }

    /// The pid of a process that has exited and been reaped.
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }
}
