//! Spawning a child that the kernel kills when the harness dies.

use std::{
    os::unix::process::CommandExt,
    process::{Child, Command},
    sync::{OnceLock, mpsc},
    thread,
};

/// Spawns `command` with `PR_SET_PDEATHSIG` = SIGKILL, from the harness's spawner thread.
///
/// The caller sets everything else (stdio, process group, uid/gid). A harness that dies between
/// fork and prctl makes the spawn fail rather than start an orphan.
pub(crate) fn spawn_guarded(mut command: Command) -> std::io::Result<Child> {
    let parent = std::process::id();
    // SAFETY: the closure only calls async-signal-safe functions (prctl, getppid). It runs
    // after std has switched uid/gid, which would otherwise clear the death signal.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The harness died between fork and prctl: do not start an orphan.
            if libc::getppid() as u32 != parent {
                return Err(std::io::Error::other("the harness exited during spawn"));
            }
            Ok(())
        });
    }
    spawn_on_parent_thread(command)
}

/// Spawns from one thread that lives as long as the process. PR_SET_PDEATHSIG fires when the
/// *thread* that forked exits, so spawning from a test's or a runtime's thread would kill a
/// child kept in a static when that thread ends, long before the harness does.
fn spawn_on_parent_thread(command: Command) -> std::io::Result<Child> {
    type Request = (Command, mpsc::Sender<std::io::Result<Child>>);
    static SPAWNER: OnceLock<mpsc::Sender<Request>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (requests, incoming) = mpsc::channel::<Request>();
        thread::Builder::new()
            .name("harness-spawner".to_owned())
            .spawn(move || {
                for (mut command, reply) in incoming {
                    let _ = reply.send(command.spawn());
                }
            })
            .expect("starting the spawner thread");
        requests
    });
    let (reply, result) = mpsc::channel();
    spawner
        .send((command, reply))
        .map_err(|_| std::io::Error::other("the spawner thread is gone"))?;
    result
        .recv()
        .map_err(|_| std::io::Error::other("the spawner thread is gone"))?
}
