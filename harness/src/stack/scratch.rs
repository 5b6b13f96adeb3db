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

/// A new private directory named `<prefix>XXXXXX` under the chosen base.
pub(crate) fn scratch_dir(prefix: &str) -> Result<TempDir, StackError> {
    let base = base();
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(&base)
        .map_err(|e| StackError::io(format!("creating a directory under {}", base.display()), e))
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
