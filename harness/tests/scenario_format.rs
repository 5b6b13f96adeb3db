//! The scenario format: what parses, and where the errors point when it does not.

mod common;

use std::path::Path;

use harness::scenario::{Body, Placeholder, Scenario, Target, TokenKind, UserCreation};
use rstest::rstest;

const STAGES: &[&str] = &[
    "route-missing",
    "cookie-first",
    "anon-client",
    "debrief-final",
    "reference",
    "reference-local",
];

fn parse(text: &str) -> Result<Scenario, harness::scenario::ParseError> {
    Scenario::parse(Path::new("scenarios/example.toml"), text, STAGES)
}

const PHANTOM_COOKIE: &str = r#"
story = """
The API client sends a valid Bearer token and, from its cookie jar, a malformed Supabase cookie.
"""
users = ["alice"]
admin_users = ["bob"]

[[step]]
name = "cookie-first helper crashes before it reads the Bearer token"
stage = "cookie-first"
method = "POST"
path = "/api/session/create"
headers = { Authorization = "Bearer {{alice.token.valid}}", Cookie = "sb-127-auth-token=base64-eyJicm9rZW4" }
expect = { status = 500, body_contains = ["Failed to parse cookie string"] }

[[step]]
name = "reference ignores the phantom cookie and acts as the user"
stage = "reference"
method = "POST"
path = "/api/session/create"
headers = [["Authorization", "Bearer {{alice.token.valid}}"], ["Authorization", "Bearer x"]]
json = { user_id = "{{bob.id}}" }
capture = { session = "sessionId" }

[step.expect]
status = 200
headers = { WWW-Authenticate = "Bearer" }
sql = { "select count(*) from public.sessions where user_id = '{{alice.id}}'" = 1 }

[[step]]
name = "the captured session is alice's"
target = "auth"
method = "GET"
path = "/user?session={{capture.session}}"
"#;

#[test]
fn a_full_scenario_parses_into_the_model() {
    let scenario = parse(PHANTOM_COOKIE).unwrap();
    assert_eq!(scenario.name, "example");
    assert!(scenario.story.starts_with("The API client sends"));
    assert_eq!(scenario.users.len(), 2);
    assert_eq!(scenario.users[1].created_by, UserCreation::Admin);
    assert_eq!(scenario.stages(), vec!["cookie-first", "reference"]);

    let first = scenario.steps[0].request.as_ref().unwrap();
    assert_eq!(first.target, Target::Stage("cookie-first".into()));
    // Table headers keep the order they were written in.
    let names: Vec<_> = first
        .headers
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(names, ["Authorization", "Cookie"]);
    let token: Vec<_> = first.headers[0].1.placeholders().cloned().collect();
    assert_eq!(
        token,
        [Placeholder::Token("alice".into(), TokenKind::Valid)]
    );
    assert_eq!(first.expect.status, Some(500));

    let second = scenario.steps[1].request.as_ref().unwrap();
    // A repeated header survives as two entries.
    assert_eq!(second.headers.len(), 2);
    assert!(matches!(&second.body, Some(Body::Json(json)) if json["user_id"] == "{{bob.id}}"));
    assert_eq!(
        second.captures,
        [("session".to_string(), "sessionId".to_string())]
    );
    assert_eq!(second.expect.headers[0].0, "www-authenticate");
    assert_eq!(second.expect.sql[0].1, serde_json::json!(1));

    assert_eq!(
        scenario.steps[2].request.as_ref().unwrap().target,
        Target::Auth
    );
    assert!(!scenario.injects_faults());
}

fn step_with(line: &str) -> String {
    format!(
        "story = \"s\"\nusers = [\"alice\"]\n[[step]]\nname = \"n\"\nmethod = \"POST\"\npath = \"/p\"\n{line}\n"
    )
}

#[rstest]
#[case::unknown_stage(
    step_with("stage = \"cookie_first\""),
    7,
    9,
    "unknown stage `cookie_first`"
)]
#[case::unknown_user(
    step_with(
        "stage = \"reference\"\nheaders = { Authorization = \"Bearer {{carol.token.valid}}\" }"
    ),
    3,
    1,
    "user `carol`"
)]
#[case::unknown_token_kind(
    step_with(
        "stage = \"reference\"\nheaders = { Authorization = \"Bearer {{alice.token.forged}}\" }"
    ),
    8,
    37,
    "unknown token kind `forged`"
)]
#[case::capture_before_it_exists(
    step_with("stage = \"reference\"\nbody = \"{{capture.session}}\""),
    3,
    1,
    "no earlier step captures"
)]
#[case::no_target(step_with(""), 3, 1, "exactly one of `stage`, `target` or `url`")]
#[case::two_targets(
    step_with("stage = \"reference\"\ntarget = \"auth\""),
    3,
    1,
    "exactly one of"
)]
#[case::unknown_field(
    step_with("stage = \"reference\"\nexpected = 3"),
    8,
    1,
    "unknown field `expected`"
)]
#[case::wrong_type(
    step_with("stage = \"reference\"\nexpect = { status = \"ok\" }"),
    8,
    21,
    "invalid type"
)]
#[case::lowercase_method(
    "story = \"s\"\n[[step]]\nname = \"n\"\nstage = \"reference\"\nmethod = \"post\"\npath = \"/p\"\n".to_string(),
    5,
    10,
    "invalid method `post`"
)]
#[case::bad_toml("story = \"s\"\n[[step]\n".to_string(), 2, 8, "expected `]`")]
fn malformed_scenarios_name_the_file_and_position(
    #[case] text: String,
    #[case] line: usize,
    #[case] column: usize,
    #[case] message: &str,
) {
    let error = parse(&text).unwrap_err();
    common::assert_error_at(&error, "scenarios/example.toml", line, column, message);
}

#[test]
fn a_scenario_without_steps_runs_nothing_and_says_so() {
    let error = parse("story = \"nothing\"\n").unwrap_err();
    assert!(error.message.contains("at least one `[[step]]`"), "{error}");
}

#[test]
fn a_missing_file_is_reported_with_its_path() {
    let error = Scenario::load("scenarios/does-not-exist.toml", STAGES).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("scenarios/does-not-exist.toml: cannot read"),
        "{error}"
    );
}

/// Every scenario the project ships parses: a broken file fails here, not in the middle of a run.
#[rstest]
fn shipped_scenarios_parse(#[files("../scenarios/*.toml")] path: std::path::PathBuf) {
    let stages = service::Stage::ALL.map(|stage| stage.name());
    let scenario = Scenario::load(&path, &stages).unwrap_or_else(|error| panic!("{error}"));
    assert!(
        !scenario.story.is_empty(),
        "{} has no story",
        path.display()
    );
}
