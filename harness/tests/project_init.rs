//! `harness init` in an empty folder, a Next.js-shaped one and a FastAPI-shaped one
//! (`tests/fixtures/init/`): what it detects, that what it writes loads and parses, and that it
//! never overwrites.

use std::{collections::HashMap, path::Path, path::PathBuf};

use harness::{
    app::Preset,
    project::{
        Project, ProjectError,
        init::{AppKind, init},
    },
    scenario::Scenario,
};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/init")
        .join(name)
}

fn copy_of(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture(name), dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// What init wrote loads as a project, and its scenario parses with the service as a stage.
fn check_written(dir: &Path, service: &str) -> Project {
    let project = Project::load_with_env(dir, HashMap::new()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(project.service_names(), [service]);
    let mut stages = vec!["reference"];
    stages.push(service);
    let scenario = Scenario::load(project.scenarios.join("first-signed-in-call.toml"), &stages)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(scenario.steps.len(), 3);
    let text =
        std::fs::read_to_string(project.scenarios.join("first-signed-in-call.toml")).unwrap();
    for needle in [
        "{{alice.token.valid}}",
        "{{alice.token.expired}}",
        "expect = { status = 401 }",
    ] {
        assert!(text.contains(needle), "{needle} in {text}");
    }
    project
}

#[test]
fn in_an_empty_folder_it_writes_a_project_whose_command_says_what_to_edit() {
    let dir = tempfile::tempdir().unwrap();
    let report = init(dir.path()).unwrap();
    assert_eq!(report.kind, AppKind::Unknown);
    assert_eq!(report.supabase, None);
    assert_eq!(
        report.written,
        [
            dir.path().join("harness.toml"),
            dir.path()
                .join("harness/scenarios/first-signed-in-call.toml")
        ]
    );
    let project = check_written(dir.path(), "app");
    assert!(project.supabase.is_none());
    assert!(project.services[0].command.contains("edit harness.toml"));
    let manifest = std::fs::read_to_string(dir.path().join("harness.toml")).unwrap();
    assert!(
        manifest.contains("none found: run `supabase init`"),
        "{manifest}"
    );
}

#[test]
fn in_a_nextjs_project_it_uses_the_dev_script_and_the_nextjs_preset() {
    let dir = copy_of("nextjs");
    let report = init(dir.path()).unwrap();
    assert_eq!(report.kind, AppKind::NextJs);
    assert_eq!(report.supabase, Some(dir.path().join("supabase")));
    let project = check_written(dir.path(), "web");
    let web = &project.services[0];
    assert_eq!(web.command, "npm run dev");
    assert_eq!(web.preset, Some(Preset::NextJs));
    assert!(
        project.supabase.is_some(),
        "the supabase folder is picked up"
    );
    assert!(
        web.env.is_empty(),
        "the env table's examples are commented out"
    );
}

#[test]
fn in_a_fastapi_project_it_runs_uvicorn_on_the_app_it_finds() {
    let dir = copy_of("fastapi");
    let report = init(dir.path()).unwrap();
    assert_eq!(report.kind, AppKind::FastApi);
    let project = check_written(dir.path(), "api");
    let api = &project.services[0];
    assert_eq!(
        api.command,
        "uvicorn app.main:app --host 127.0.0.1 --port \"$PORT\""
    );
    assert_eq!(api.preset, Some(Preset::Supabase));
}

#[test]
fn it_never_overwrites_and_says_what_exists() {
    let dir = copy_of("fastapi");
    init(dir.path()).unwrap();
    let manifest = dir.path().join("harness.toml");
    std::fs::write(&manifest, "# the team's own edits\n").unwrap();
    let error = init(dir.path()).unwrap_err();
    let ProjectError::AlreadyExists { paths } = &error else {
        panic!("{error}");
    };
    assert_eq!(
        paths,
        &[
            manifest.clone(),
            dir.path()
                .join("harness/scenarios/first-signed-in-call.toml")
        ]
    );
    assert!(
        error
            .to_string()
            .contains("writes nothing over existing files"),
        "{error}"
    );
    assert_eq!(
        std::fs::read_to_string(&manifest).unwrap(),
        "# the team's own edits\n"
    );
}
