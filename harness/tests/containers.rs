//! The containers provider against the real Docker engine: the same stack, the same snapshots,
//! nothing left behind. Where no engine answers or the images are missing, every test here is
//! skipped and the binary says why, once, on stderr (not captured, so `cargo test` shows it).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use harness::report::snapshot::{self, Comparison, SnapshotStore};
use harness::scenario::Scenario;
use harness::stack::{ImageChoice, Provider, containers};
use harness::{Runner, Stack};
use testcontainers::bollard::{
    Docker,
    models::{ContainerCreateBody, NetworkCreateRequest},
    query_parameters::{CreateContainerOptions, ListContainersOptions, ListNetworksOptions},
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The engine, or None after saying (once per test binary) why these tests cannot run here.
async fn docker_or_skip() -> Option<Docker> {
    static WHY_NOT: OnceLock<Option<String>> = OnceLock::new();
    let availability = containers::availability(ImageChoice::Local).await;
    let why_not = WHY_NOT.get_or_init(|| {
        let why = availability.as_ref().err().cloned();
        if let Some(why) = &why {
            // Straight to the stderr handle: libtest captures eprintln! of passing tests.
            let _ = writeln!(std::io::stderr(), "SKIPPED containers tests: {why}");
        }
        why
    });
    match why_not {
        Some(_) => None,
        None => Some(
            containers::docker()
                .await
                .expect("the engine answered a moment ago"),
        ),
    }
}

async fn containers_stack() -> Stack {
    Stack::builder()
        .provider(Provider::Containers)
        .images(ImageChoice::Local)
        .start()
        .await
        .expect("a containers stack starts")
}

fn labelled(key: &str, value: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_owned(), vec![format!("{key}={value}")])])
}

async fn harness_containers(docker: &Docker, network: &str) -> Vec<String> {
    let containers = docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(labelled(
                containers::PID_LABEL,
                &std::process::id().to_string(),
            )),
            ..Default::default()
        }))
        .await
        .unwrap();
    containers
        .into_iter()
        .flat_map(|c| c.names.unwrap_or_default())
        .filter(|name| name.contains(network))
        .collect()
}

async fn network_exists(docker: &Docker, network: &str) -> bool {
    let filters = HashMap::from([("name".to_owned(), vec![network.to_owned()])]);
    let networks = docker
        .list_networks(Some(ListNetworksOptions {
            filters: Some(filters),
        }))
        .await
        .unwrap();
    networks.iter().any(|n| n.name.as_deref() == Some(network))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_replays_with_the_native_snapshots() {
    let Some(_docker) = docker_or_skip().await else {
        return;
    };
    harness::logs::install("TEST_LOG", "off");
    let stages = service::Stage::ALL.map(|stage| stage.name());
    let store = SnapshotStore::new(root().join("snapshots"));
    let stack = containers_stack().await;
    let runner = Runner::for_stack(&stack);
    let mut paths: Vec<_> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    paths.sort();
    assert!(paths.len() > 10, "the scenarios are found");
    let mut differences = Vec::new();
    for path in paths {
        let scenario = Scenario::load(&path, &stages).unwrap_or_else(|e| panic!("{e}"));
        // Its own budgets or key profile (rotations included), so its own stack, as in
        // `harness run`.
        let own_needs = !scenario.timeouts.is_default()
            || scenario.keys.is_some_and(|keys| keys.name() != "cli");
        let report = if own_needs {
            let own = Stack::builder()
                .provider(Provider::Containers)
                .images(ImageChoice::Local)
                .scenario(&scenario)
                .start()
                .await
                .expect("a containers stack starts");
            let report = Runner::for_stack(&own).replay(&scenario).await;
            own.stop().await.expect("the stack stops");
            report
        } else {
            runner.replay(&scenario).await
        };
        let text = snapshot::render(&report);
        match store.compare(&scenario.name, &text).unwrap() {
            Comparison::Matches if report.passed() => {}
            Comparison::Matches => {
                differences.push(format!("{}: expectations failed", scenario.name))
            }
            Comparison::Missing => differences.push(format!("{}: no snapshot", scenario.name)),
            Comparison::Changed(diff) => differences.push(format!("{}:\n{diff}", scenario.name)),
        }
    }
    stack.stop().await.expect("the stack stops");
    assert!(
        differences.is_empty(),
        "containers differ from native:\n{}",
        differences.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ports_are_published_on_loopback_only_and_everything_goes_when_a_test_panics() {
    let Some(docker) = docker_or_skip().await else {
        return;
    };
    // In place of a test body that panics (a spawned task would need a Send future, which
    // sqlx's executors do not give `Stack::start`).
    let body = std::panic::AssertUnwindSafe(async {
        let stack = containers_stack().await;
        let network = stack
            .network()
            .expect("a containers stack has a network")
            .to_owned();
        let docker = containers::docker().await.unwrap();
        for name in harness_containers(&docker, &network).await {
            let inspect = docker.inspect_container(&name, None).await.unwrap();
            let host_config = inspect.host_config.unwrap();
            if host_config.network_mode.as_deref() == Some("host") {
                // The data API publishes nothing: it must bind loopback itself.
                let env = inspect.config.unwrap().env.unwrap_or_default();
                assert!(
                    env.iter().any(|var| var == "PGRST_SERVER_HOST=127.0.0.1"),
                    "{name} on the host's network binds beyond loopback: {env:?}"
                );
                continue;
            }
            let bindings = host_config.port_bindings.unwrap_or_default();
            assert!(!bindings.is_empty(), "{name} publishes no port");
            for binding in bindings.values().flatten().flatten() {
                assert_eq!(binding.host_ip.as_deref(), Some("127.0.0.1"), "{name}");
            }
        }
        // PostgreSQL, the auth server and the data API.
        assert_eq!(harness_containers(&docker, &network).await.len(), 3);
        std::panic::panic_any(network);
    });
    let panic = futures_util::FutureExt::catch_unwind(body)
        .await
        .expect_err("the body panicked");
    let network = *panic
        .downcast::<String>()
        .expect("the panic carries the network");
    assert_eq!(
        harness_containers(&docker, &network).await,
        Vec::<String>::new()
    );
    assert!(
        !network_exists(&docker, &network).await,
        "{network} is still there"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harness_down_removes_what_a_dead_run_left_and_spares_live_runs() {
    let Some(docker) = docker_or_skip().await else {
        return;
    };
    // A pid that has certainly exited (a child we waited for), and one that runs until killed.
    let mut finished = Command::new("true").spawn().unwrap();
    finished.wait().unwrap();
    let mut running = Command::new("sleep").arg("600").spawn().unwrap();
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let mut names = Vec::new();
    for (owner, pid) in [("dead", finished.id()), ("live", running.id())] {
        let labels = HashMap::from([
            (containers::LABEL.to_owned(), "true".to_owned()),
            (containers::PID_LABEL.to_owned(), pid.to_string()),
        ]);
        let name = format!("supabase-harness-test-{owner}-{suffix}");
        docker
            .create_network(NetworkCreateRequest {
                name: name.clone(),
                labels: Some(labels.clone()),
                ..Default::default()
            })
            .await
            .unwrap();
        let body = ContainerCreateBody {
            image: Some(containers::LOCAL_POSTGRES.to_string()),
            labels: Some(labels),
            ..Default::default()
        };
        let options = CreateContainerOptions {
            name: Some(name.clone()),
            ..Default::default()
        };
        docker.create_container(Some(options), body).await.unwrap();
        names.push(name);
    }
    let down = || {
        let output = Command::new(env!("CARGO_BIN_EXE_harness"))
            .arg("down")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    };
    let (dead, live) = (&names[0], &names[1]);
    let stdout = down();
    assert!(
        stdout.contains(&format!("removed container {dead}")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("removed network {dead}")),
        "{stdout}"
    );
    assert!(
        !stdout.contains(live.as_str()),
        "a live run's containers were taken: {stdout}"
    );
    assert!(!network_exists(&docker, dead).await);
    assert!(
        docker.inspect_container(live, None).await.is_ok(),
        "{live} was removed"
    );

    // Once its owner is gone, the next `harness down` takes it.
    running.kill().unwrap();
    running.wait().unwrap();
    let stdout = down();
    assert!(
        stdout.contains(&format!("removed container {live}")),
        "{stdout}"
    );
    assert!(!network_exists(&docker, live).await);
}

#[test]
fn auto_says_native_and_why_when_no_engine_answers() {
    let output = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["show", "canonical-success", "--provider", "auto"])
        .current_dir(root())
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("harness: provider auto: native, because"),
        "{stderr}"
    );
    assert!(
        stderr.contains("/nonexistent/docker.sock"),
        "the reason names the socket: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_picks_containers_when_the_engine_and_images_are_there() {
    let Some(_docker) = docker_or_skip().await else {
        return;
    };
    let stack = Stack::builder()
        .provider(Provider::Auto)
        .images(ImageChoice::Local)
        .start()
        .await
        .expect("the stack starts");
    assert_eq!(stack.provider(), Provider::Containers);
    assert!(
        stack.provider_note().starts_with("auto: containers ("),
        "{}",
        stack.provider_note()
    );
    stack.stop().await.unwrap();
}
