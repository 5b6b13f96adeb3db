//! Everything the containers provider creates carries [`LABEL`] and its owner's pid, so a run
//! that was killed leaves things `harness down` (and the next stack) can recognise and remove.

use std::collections::HashMap;

use testcontainers::bollard::{
    Docker,
    query_parameters::{ListContainersOptions, ListNetworksOptions, RemoveContainerOptions},
};

/// On every container and network the harness creates (and on the images docker/build.sh builds).
pub const LABEL: &str = "org.supabase-harness";
/// The pid of the harness process that created it.
pub const PID_LABEL: &str = "org.supabase-harness.pid";

/// The labels for something this process creates.
pub(crate) fn labels() -> HashMap<String, String> {
    HashMap::from([
        (LABEL.to_owned(), "true".to_owned()),
        (PID_LABEL.to_owned(), std::process::id().to_string()),
    ])
}

/// What [`remove_leftovers`] removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Removed {
    pub containers: Vec<String>,
    pub networks: Vec<String>,
}

/// Removes the harness's containers and networks: those whose creating process is gone, or
/// all of them with `all` (which would also take a running stack's away).
pub async fn remove_leftovers(docker: &Docker, all: bool) -> Result<Removed, String> {
    let filters = HashMap::from([("label".to_owned(), vec![LABEL.to_owned()])]);
    let containers = docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(filters.clone()),
            ..Default::default()
        }))
        .await
        .map_err(|e| format!("listing the harness's containers: {e}"))?;
    let mut removed = Removed::default();
    for container in containers {
        if !all && owner_alive(container.labels.as_ref()) {
            continue;
        }
        let Some(id) = container.id else { continue };
        let name = container
            .names
            .and_then(|names| names.into_iter().next())
            .map(|name| name.trim_start_matches('/').to_owned())
            .unwrap_or_else(|| id.clone());
        let options = RemoveContainerOptions {
            force: true,
            v: true,
            ..Default::default()
        };
        docker
            .remove_container(&id, Some(options))
            .await
            .map_err(|e| format!("removing container {name}: {e}"))?;
        removed.containers.push(name);
    }
    let networks = docker
        .list_networks(Some(ListNetworksOptions {
            filters: Some(filters),
        }))
        .await
        .map_err(|e| format!("listing the harness's networks: {e}"))?;
    for network in networks {
        if !all && owner_alive(network.labels.as_ref()) {
            continue;
        }
        let Some(name) = network.name else { continue };
        docker
            .remove_network(&name)
            .await
            .map_err(|e| format!("removing network {name}: {e}"))?;
        removed.networks.push(name);
    }
    Ok(removed)
}

/// Whether the process named by the pid label still runs (no label: assume it does, and leave
/// the thing to `--all`).
fn owner_alive(labels: Option<&HashMap<String, String>>) -> bool {
    let Some(pid) = labels
        .and_then(|labels| labels.get(PID_LABEL))
        .and_then(|pid| pid.parse::<i32>().ok())
    else {
        return true;
    };
    // Signal 0 checks existence; EPERM still means the process exists.
    // SAFETY: kill with signal 0 sends nothing.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Runs async cleanup from `Drop`, which may run on a runtime's thread (a test that panicked),
/// on a current-thread runtime, or outside any runtime: a thread of its own with a runtime of its
/// own works in all three, and the caller waits for it, so nothing outlives the stack.
pub(crate) fn block_on_cleanup<F>(cleanup: F)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let thread = std::thread::Builder::new()
        .name("harness-cleanup".to_owned())
        .spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime.block_on(cleanup),
                Err(error) => eprintln!("harness: cannot clean up containers: {error}"),
            }
        });
    match thread {
        Ok(thread) => {
            let _ = thread.join();
        }
        Err(error) => eprintln!("harness: cannot clean up containers: {error}"),
    }
}
