//! `examples/fastapi-sessions/` under `harness run`, on a fresh copy, as a user runs it: it
//! passes and leaves nothing running or on disk; with the anon-client flag it fails naming the
//! step and showing the diff; an app that crashes at start is reported with its output well
//! within its timeout.
//!
//! Needs the example's virtual environment (`.ci/run` makes it: `python3 -m venv
//! examples/fastapi-sessions/.venv`, then `pip install -r requirements.txt`), or another one
//! named by HARNESS_EXAMPLE_VENV; without one every test prints a line saying so and passes.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn example() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("examples/fastapi-sessions")
}

/// The venv's `bin/`, when its Python has supabase, fastapi and uvicorn.
fn venv_bin(test: &str) -> Option<PathBuf> {
    let venv = std::env::var_os("HARNESS_EXAMPLE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| example().join(".venv"));
    let bin = venv.join("bin");
    let usable = Command::new(bin.join("python3"))
        .args(["-c", "import supabase, fastapi, uvicorn"])
        .output()
        .is_ok_and(|output| output.status.success());
    if !usable {
        println!(
            "{test}: skipped: no Python with supabase, fastapi and uvicorn in {} (make it with \
             `python3 -m venv {0} && {0}/bin/pip install -r {}`, or set HARNESS_EXAMPLE_VENV)",
            venv.display(),
            example().join("requirements.txt").display()
        );
        return None;
    }
    Some(bin)
}

/// A copy of the example without its venv or caches, and a private TMPDIR the postgres user
/// can reach, in which every stack of the run lives.
struct Fresh {
    copy: tempfile::TempDir,
    tmp: tempfile::TempDir,
}

impl Fresh {
    fn new() -> Fresh {
        let copy = tempfile::tempdir().unwrap();
        copy_dir(&example(), copy.path());
        let tmp = tempfile::tempdir().unwrap();
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        Fresh { copy, tmp }
    }

    fn dir(&self) -> &Path {
        self.copy.path()
    }

    fn run(&self, bin: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = self.command(bin, "run");
        command.args(args);
        for (name, value) in env {
            command.env(name, value);
        }
        command.output().expect("run harness")
    }

    fn command(&self, bin: &Path, subcommand: &str) -> Command {
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut command = Command::new(env!("CARGO_BIN_EXE_harness"));
        command
            .arg(subcommand)
            .current_dir(self.dir())
            .env("PATH", path)
            .env("TMPDIR", self.tmp.path())
            .env("CI", "true")
            .env_remove("SESSIONS_CLIENT");
        command
    }

    /// Nothing of the stack in TMPDIR, and no process working in the copy or running from
    /// TMPDIR (the app, a postmaster, an auth server).
    fn assert_clean(&self) {
        let left: Vec<PathBuf> = std::fs::read_dir(self.tmp.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert!(left.is_empty(), "files left in TMPDIR: {left:?}");
        let processes = processes_using(self.dir(), self.tmp.path());
        assert!(processes.is_empty(), "processes left: {processes:?}");
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name == ".venv" || name == "__pycache__" || name.ends_with(".snap.new") {
            continue;
        }
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every file under `dir`, relative to it.
fn files(dir: &Path) -> BTreeSet<PathBuf> {
    let mut found = BTreeSet::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).unwrap().flatten() {
            if entry.file_type().unwrap().is_dir() {
                pending.push(entry.path());
            } else {
                found.insert(entry.path().strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    found
}

/// `pid: command line` of processes whose working directory is under `cwd` or whose command
/// line mentions `tmp`.
fn processes_using(cwd: &Path, tmp: &Path) -> Vec<String> {
    let tmp = tmp.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            let working_there = std::fs::read_link(format!("/proc/{pid}/cwd"))
                .is_ok_and(|dir| dir.starts_with(cwd));
            (working_there || cmdline.contains(&tmp)).then(|| format!("{pid}: {cmdline}"))
        })
        .collect()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_example_passes_and_leaves_nothing_running_or_on_disk() {
    let Some(bin) = venv_bin("the_example_passes") else {
        return;
    };
    let fresh = Fresh::new();
    let before = files(fresh.dir());
    let scenarios = before
        .iter()
        .filter(|path| path.starts_with("harness/scenarios"))
        .count();
    let output = fresh.run(&bin, &[], &[]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(scenarios >= 6, "the example's scenarios are found");
    assert!(
        stdout.contains(&format!("{scenarios} passed, 0 failed")),
        "{stdout}"
    );
    assert!(stdout.contains("invariants: 4/4 held"), "{stdout}");
    fresh.assert_clean();
    assert_eq!(files(fresh.dir()), before, "the run wrote into the project");
}

#[test]
fn the_anon_client_fails_the_rls_scenario_naming_the_step_with_the_diff() {
    let Some(bin) = venv_bin("the_anon_client_fails") else {
        return;
    };
    let fresh = Fresh::new();
    let output = fresh.run(&bin, &["--filter", "rls"], &[("SESSIONS_CLIENT", "anon")]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    for needle in [
        "FAILED rls-acts-as-the-user",
        "step 1 \"alice's insert runs as alice and passes RLS\": status: expected 200, got 500",
        "the replay differs from the snapshot:",
        "-→ 200",
        "+→ 500",
        // The app tells the truth: the data API's RLS refusal, in PostgreSQL's words.
        r#"+  "error": "Failed to create session: new row violates row-level security policy for table \"sessions\"""#,
        r#"+  INFO httpx: HTTP Request: POST [api]/rest/v1/sessions "HTTP/1.1 401 Unauthorized""#,
        "0 passed, 1 failed",
    ] {
        assert!(stdout.contains(needle), "{needle:?} in:\n{stdout}");
    }
    fresh.assert_clean();
}

#[test]
fn an_app_that_crashes_at_start_is_reported_with_its_output_within_its_timeout() {
    let Some(bin) = venv_bin("an_app_that_crashes") else {
        return;
    };
    let fresh = Fresh::new();
    // Without the preset the app has no SUPABASE_URL, and exits while importing.
    let manifest = fresh.dir().join("harness.toml");
    let text_before = std::fs::read_to_string(&manifest).unwrap();
    let broken = text_before
        .lines()
        .filter(|line| !line.starts_with("preset ="))
        .collect::<Vec<_>>()
        .join("\n");
    assert_ne!(
        broken,
        text_before.trim_end(),
        "the preset line was removed"
    );
    std::fs::write(&manifest, broken).unwrap();

    let started = Instant::now();
    let output = fresh.run(&bin, &[], &[]);
    let elapsed = started.elapsed();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("starting the project's services"),
        "{stderr}"
    );
    assert!(
        stderr.contains("service `app` exited (exit status: 1)"),
        "{stderr}"
    );
    assert!(stderr.contains("before it was ready"), "{stderr}");
    assert!(
        stderr.contains("KeyError: 'SUPABASE_URL'"),
        "its output is quoted: {stderr}"
    );
    // harness.toml gives it 30 s; a crash is reported as soon as it happens.
    assert!(elapsed < Duration::from_secs(30), "took {elapsed:?}");
    fresh.assert_clean();
}

#[test]
fn harness_up_starts_the_app_prints_its_url_and_stops_it_on_sigint() {
    let Some(bin) = venv_bin("harness_up_starts_the_app") else {
        return;
    };
    let fresh = Fresh::new();
    let mut child = fresh
        .command(&bin, "up")
        .args(["--output", "env"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run harness up");
    // SIGINT however this test ends, so a failed assertion leaves no `harness up` behind.
    struct Interrupt(u32);
    impl Drop for Interrupt {
        fn drop(&mut self) {
            // SAFETY: signalling our own child; SIGINT lets it stop its services and stack.
            unsafe { libc::kill(self.0 as libc::pid_t, libc::SIGINT) };
        }
    }
    let interrupt = Interrupt(child.id());
    let mut url = None;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(value) = line.strip_prefix("SERVICE_APP_URL=") {
            url = Some(value.to_owned());
            break;
        }
    }
    let url = url.expect("harness up prints SERVICE_APP_URL");
    let health = std::process::Command::new(bin.join("python3"))
        .args([
            "-c",
            "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).status)",
            &format!("{url}/health"),
        ])
        .output()
        .unwrap();
    assert_eq!(
        text(&health.stdout).trim(),
        "200",
        "{}",
        text(&health.stderr)
    );

    drop(interrupt);
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "harness up did not stop on SIGINT"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    fresh.assert_clean();
}

#[test]
fn the_writes_invariant_follows_harness_toml_and_names_a_table_that_is_not_there() {
    let Some(bin) = venv_bin("the_writes_invariant_follows_harness_toml") else {
        return;
    };
    let fresh = Fresh::new();
    let manifest = fresh.dir().join("harness.toml");
    let original = std::fs::read_to_string(&manifest).unwrap();
    let writes = "writes = { table = \"public.sessions\", id = \"sessionId\" }";
    assert!(original.contains(writes));

    // No writes table: that invariant is not checked (and public.sessions is not read).
    std::fs::write(&manifest, original.replace(writes, "")).unwrap();
    let output = fresh.run(&bin, &["--filter", "fault"], &[]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("invariants: 3/3 held"), "{stdout}");
    assert!(
        stdout.contains("-acknowledged writes: held (1 acknowledged, 1 rows)"),
        "only the snapshot's line of that invariant differs: {stdout}"
    );

    // A table the schema does not have is said so, not sent to PostgreSQL as SQL.
    let missing = original.replace("public.sessions\", id", "public.nope\", id");
    std::fs::write(&manifest, missing).unwrap();
    let output = fresh.run(&bin, &["--filter", "fault"], &[]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "invariant: cannot read public.nope to check the acknowledged writes: public.nope \
             does not exist"
        ),
        "{stdout}"
    );
    fresh.assert_clean();
}

#[test]
fn ctrl_c_during_a_run_stops_the_app_and_the_stack() {
    let Some(bin) = venv_bin("ctrl_c_during_a_run") else {
        return;
    };
    let fresh = Fresh::new();
    let mut child = fresh
        .command(&bin, "run")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run harness");
    // Interrupted once the app is up and a scenario is being replayed.
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in stderr.by_ref() {
        let line = line.unwrap();
        let replaying = line.starts_with("[2/");
        seen.push(line);
        if replaying {
            break;
        }
    }
    assert!(
        seen.iter().any(|line| line.starts_with("[2/")),
        "the run got going: {seen:?}"
    );
    // SAFETY: signalling our own child, as Ctrl-C does.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let rest: Vec<String> = stderr.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{rest:?}");
    assert!(
        rest.iter()
            .any(|line| line
                .contains("interrupted by SIGINT: the services and the stack were stopped")),
        "{rest:?}"
    );
    fresh.assert_clean();
}

#[test]
fn harness_chaos_drives_the_app_and_finds_every_write_it_acknowledged() {
    let Some(bin) = venv_bin("harness_chaos_drives_the_app") else {
        return;
    };
    let fresh = Fresh::new();
    let output = fresh
        .command(&bin, "chaos")
        .args(["--duration", "4s", "--clients", "3", "--output", "json"])
        .output()
        .expect("run harness chaos");
    let context = format!("{}\n{}", text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{context}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect(&context);
    let request = report["request"].as_str().unwrap();
    assert!(
        request.starts_with("POST http://127.0.0.1:") && request.ends_with("/api/session/create"),
        "the app's route, not the reference stage's: {context}"
    );
    let counts = &report["counts"];
    let count = |name: &str| counts[name].as_u64().expect(name);
    assert!(count("status_2xx") > 0, "{context}");
    assert!(
        count("status_503") > 0,
        "the faults reached the app: {context}"
    );
    assert_eq!(count("lost_writes"), 0, "{context}");
    assert_eq!(
        count("rows"),
        count("status_2xx") + count("unacknowledged_rows"),
        "every acknowledged sessionId has its row in public.sessions: {context}"
    );
    let hangs = report["invariants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|invariant| invariant["name"] == "no hangs")
        .expect(&context);
    assert!(
        hangs["detail"].as_str().unwrap().starts_with("not checked"),
        "the example declares no timeout, so hangs are said to be unjudged: {context}"
    );
    fresh.assert_clean();
}

#[test]
fn harness_chaos_calls_the_anon_clients_500s_misleading() {
    let Some(bin) = venv_bin("harness_chaos_calls_the_anon_clients_500s") else {
        return;
    };
    let fresh = Fresh::new();
    let output = fresh
        .command(&bin, "chaos")
        .args(["--duration", "2s", "--clients", "2"])
        .env("SESSIONS_CLIENT", "anon")
        .output()
        .expect("run harness chaos");
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("VIOLATED   no misleading errors"),
        "{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("answered 500"),
        "the RLS refusal the anon client turns into a 500 is named: {stdout}"
    );
    fresh.assert_clean();
}
