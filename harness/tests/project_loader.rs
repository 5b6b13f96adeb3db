//! The project loader against Supabase CLI layouts (fixtures under `tests/fixtures/projects/`):
//! migration order and skipping, seeds, roles, config.toml keys and their env() values, and the
//! errors for what cannot be used.

use std::{collections::HashMap, path::PathBuf};

use harness::project::{Project, ProjectError};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/projects")
        .join(name)
}

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn load(name: &str, pairs: &[(&str, &str)]) -> Project {
    Project::load_with_env(&fixture(name), env(pairs)).unwrap_or_else(|e| panic!("{e}"))
}

fn labels<'a>(files: impl IntoIterator<Item = &'a harness::project::SqlFile>) -> Vec<&'a str> {
    files.into_iter().map(|f| f.label.as_str()).collect()
}

#[test]
fn migrations_come_in_the_clis_order_with_its_skipping_rules() {
    let project = load("cli-init", &[]);
    let supabase = project
        .supabase
        .as_ref()
        .expect("the supabase folder is found");
    assert_eq!(supabase.dir, fixture("cli-init").join("supabase"));
    assert_eq!(
        labels(&supabase.migrations),
        [
            "migrations/20240101000000_create_notes.sql",
            "migrations/20240201000000_policies.sql"
        ]
    );
    let skipped: Vec<&str> = project
        .warnings
        .iter()
        .filter(|w| w.message.starts_with("skipping migration"))
        .map(|w| w.subject.as_str())
        .collect();
    assert_eq!(skipped, ["20211201000000_init.sql", "README.md"]);
    assert_eq!(
        supabase.roles.as_ref().map(|r| r.label.as_str()),
        Some("roles.sql")
    );
    assert_eq!(supabase.migrations[0].version(), Some("20240101000000"));
    assert_eq!(
        supabase.migrations[0].migration_name(),
        Some("create_notes")
    );
}

#[test]
fn seeds_follow_the_globs_in_order_without_duplicates() {
    let project = load("cli-init", &[]);
    let supabase = project.supabase.unwrap();
    assert_eq!(
        labels(&supabase.seeds),
        ["seed.sql", "seeds/01_first.sql", "seeds/02_more.sql"]
    );
    let unmatched: Vec<String> = project
        .warnings
        .iter()
        .filter(|w| w.message.contains("no files matched"))
        .map(|w| w.to_string())
        .collect();
    assert_eq!(unmatched.len(), 1, "{unmatched:?}");
    assert!(
        unmatched[0].ends_with("[db.seed] sql_paths: no files matched pattern ./nothing/*.sql")
    );
    assert_eq!(
        labels(supabase.sql_files()),
        [
            "roles.sql",
            "migrations/20240101000000_create_notes.sql",
            "migrations/20240201000000_policies.sql",
            "seed.sql",
            "seeds/01_first.sql",
            "seeds/02_more.sql"
        ]
    );
}

#[test]
fn env_values_come_from_the_process_then_supabase_dotenv() {
    let project = load("cli-init", &[("FIXTURE_SITE_URL", "http://127.0.0.1:5555")]);
    let auth = &project.supabase.as_ref().unwrap().config.auth;
    // FIXTURE_JWT_EXPIRY only in supabase/.env; FIXTURE_SITE_URL in both, the process wins.
    assert_eq!(auth.jwt_expiry, 120);
    assert_eq!(auth.site_url, "http://127.0.0.1:5555");
    let without = load("cli-init", &[]);
    assert_eq!(
        without.supabase.unwrap().config.auth.site_url,
        "http://127.0.0.1:4000"
    );
}

#[test]
fn supabase_prefixed_variables_override_keys_as_the_cli_does() {
    let project = load(
        "cli-init",
        &[
            ("SUPABASE_AUTH_JWT_EXPIRY", "999"),
            ("SUPABASE_DB_SEED_ENABLED", "false"),
            ("SUPABASE_DB_MIGRATIONS_ENABLED", "false"),
        ],
    );
    let supabase = project.supabase.unwrap();
    assert_eq!(supabase.config.auth.jwt_expiry, 999);
    assert!(supabase.migrations.is_empty() && supabase.seeds.is_empty());
    assert!(
        supabase.roles.is_some(),
        "roles.sql does not depend on either switch"
    );
}

#[test]
fn auth_and_api_keys_map_to_gotrue_and_postgrest_as_the_cli_maps_them() {
    let project = load("cli-init", &[]);
    let config = project.supabase.unwrap().config;
    assert_eq!(config.project_id, "cli-init");
    assert_eq!(config.major_version, 15);
    let gotrue: HashMap<&str, String> = config.auth.gotrue_env().into_iter().collect();
    let expected = [
        ("GOTRUE_SITE_URL", "http://127.0.0.1:4000"),
        ("GOTRUE_URI_ALLOW_LIST", "https://127.0.0.1:3000"),
        ("GOTRUE_DISABLE_SIGNUP", "false"),
        ("GOTRUE_JWT_EXP", "120"),
        ("GOTRUE_EXTERNAL_EMAIL_ENABLED", "true"),
        ("GOTRUE_MAILER_AUTOCONFIRM", "true"),
        ("GOTRUE_EXTERNAL_ANONYMOUS_USERS_ENABLED", "true"),
        ("GOTRUE_PASSWORD_MIN_LENGTH", "6"),
        ("GOTRUE_SECURITY_REFRESH_TOKEN_ROTATION_ENABLED", "true"),
        ("GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL", "10"),
    ];
    for (name, value) in expected {
        assert_eq!(gotrue.get(name).map(String::as_str), Some(value), "{name}");
    }
    assert_eq!(gotrue.len(), expected.len());
    assert_eq!(
        config.api.postgrest_env(),
        [
            ("PGRST_DB_SCHEMAS", "public,graphql_public".to_owned()),
            ("PGRST_DB_EXTRA_SEARCH_PATH", "public,extensions".to_owned()),
            ("PGRST_DB_MAX_ROWS", "250".to_owned()),
        ]
    );
}

#[test]
fn keys_the_harness_ignores_are_each_reported_once_with_their_position() {
    let project = load("cli-init", &[]);
    let ignored: Vec<(&str, usize)> = project
        .warnings
        .iter()
        .filter(|w| w.message.contains("is ignored"))
        .map(|w| (w.subject.as_str(), w.position.unwrap().line))
        .collect();
    let subjects: Vec<&str> = ignored.iter().map(|(s, _)| *s).collect();
    for expected in [
        "realtime",
        "studio",
        "inbucket",
        "storage",
        "auth.rate_limit",
        "auth.mfa",
        "auth.email.double_confirm_changes",
        "auth.email.otp_length",
        "edge_runtime",
        "analytics",
    ] {
        assert_eq!(
            subjects.iter().filter(|s| **s == expected).count(),
            1,
            "{expected} in {subjects:?}"
        );
    }
    // Switched off in the template: nothing to honour, nothing to say.
    for silent in [
        "auth.external.apple",
        "auth.sms",
        "db.pooler",
        "api.port",
        "auth.third_party",
    ] {
        assert!(
            !subjects.iter().any(|s| s.starts_with(silent)),
            "{silent} in {subjects:?}"
        );
    }
    let rate_limit = project
        .warnings
        .iter()
        .find(|w| w.subject == "auth.rate_limit")
        .unwrap();
    assert!(
        rate_limit.to_string().contains(
            "config.toml:199:1: [auth.rate_limit] is ignored: the auth server does not rate-limit"
        ),
        "{rate_limit}"
    );
}

#[test]
fn a_major_version_other_than_the_harnesss_is_a_clear_error() {
    let error = Project::load_with_env(&fixture("wrong-major"), HashMap::new()).unwrap_err();
    let ProjectError::MajorVersion { found, runs, .. } = &error else {
        panic!("{error}");
    };
    assert_eq!((*found, *runs), (17, 15));
    let text = error.to_string();
    assert!(
        text.contains("wrong-major/supabase/config.toml:5:17: [db] major_version is 17"),
        "{text}"
    );
    assert!(text.contains("the harness runs PostgreSQL 15"), "{text}");
}

#[test]
fn an_unknown_harness_toml_key_is_refused_at_its_position() {
    let error = Project::load_with_env(&fixture("unknown-key"), HashMap::new()).unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("unknown-key/harness.toml:3:1: unknown field `ready_ulr`"),
        "{text}"
    );
}

#[test]
fn an_unknown_template_name_is_refused_at_its_position() {
    let error = Project::load_with_env(&fixture("unknown-name"), HashMap::new()).unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains(
            "unknown-name/harness.toml:4:25: unknown name `API_ULR`: expected one of API_URL"
        ),
        "{text}"
    );
}

#[test]
fn discover_finds_the_project_from_a_subfolder_and_nothing_elsewhere() {
    let nested = fixture("cli-init").join("supabase").join("migrations");
    let project = Project::discover(&nested).unwrap().expect("found above");
    assert_eq!(project.root, fixture("cli-init"));
    assert_eq!(
        project.scenarios,
        fixture("cli-init").join("harness/scenarios")
    );
    assert_eq!(
        project.snapshots,
        fixture("cli-init").join("harness/snapshots")
    );
    assert_eq!(project.service_names(), ["api"]);
    let empty = tempfile::tempdir().unwrap();
    assert!(Project::discover(empty.path()).unwrap().is_none());
    let error = Project::load(empty.path()).unwrap_err();
    assert!(
        error.to_string().contains("run `harness init` there"),
        "{error}"
    );
}

/// A harness.toml of `text` in a fresh folder (no Supabase folder), loaded.
fn load_text(text: &str) -> Result<Project, ProjectError> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("harness.toml"), text).unwrap();
    Project::load_with_env(dir.path(), env(&[]))
}

const ONE_SERVICE: &str = "[service.app]\ncommand = \"true\"\nport = \"auto\"\n";

#[test]
fn invariants_judge_the_only_service_and_no_writes_unless_told() {
    use harness::run::{Budget, WriteTable};
    let project = load_text(ONE_SERVICE).unwrap();
    assert_eq!(project.invariants.stage, "app");
    assert_eq!(project.invariants.writes, None);
    assert_eq!(project.invariants.budget, Budget::Unknown);

    let project = load_text(&format!(
        "{ONE_SERVICE}[invariants]\nstage = \"app\"\ntimeout = \"5s\"\n\
         writes = {{ table = \"app.orders\", id = \"orderId\", owner_column = \"customer\" }}\n"
    ))
    .unwrap();
    assert_eq!(
        project.invariants.writes,
        Some(WriteTable {
            schema: "app".into(),
            table: "orders".into(),
            id_field: "orderId".into(),
            id_column: "id".into(),
            owner_column: "customer".into(),
        })
    );
    assert_eq!(
        project.invariants.budget,
        Budget::Each(std::time::Duration::from_secs(5))
    );
    // Without services, the reference stage with the stack's own budgets.
    let project = load_text("").unwrap();
    assert_eq!(project.invariants.stage, "reference");
    assert_eq!(project.invariants.budget, Budget::Stack);
}

#[test]
fn invariants_name_a_known_stage_and_a_table_or_are_refused_at_the_key() {
    let error = load_text(&format!("{ONE_SERVICE}[invariants]\nstage = \"ap\"\n"))
        .unwrap_err()
        .to_string();
    assert!(error.contains("harness.toml:5:9"), "{error}");
    assert!(error.contains("stage `ap` is neither"), "{error}");
    assert!(error.contains("expected one of app, "), "{error}");

    let error = load_text(&format!(
        "{ONE_SERVICE}[invariants]\nwrites = {{ table = \"a.b.c\", id = \"x\" }}\n"
    ))
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("table `a.b.c`: expected `schema.table`"),
        "{error}"
    );

    let error = load_text(&format!(
        "{ONE_SERVICE}[invariants]\nwrites = {{ table = \"sessions\" }}\n"
    ))
    .unwrap_err()
    .to_string();
    assert!(error.contains("missing field `id`"), "{error}");

    let error = load_text(&format!("{ONE_SERVICE}[invariants]\nstgae = \"app\"\n"))
        .unwrap_err()
        .to_string();
    assert!(error.contains("unknown field `stgae`"), "{error}");
}
