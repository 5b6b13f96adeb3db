//! The signing-key vocabulary of scenario files: the profile a scenario needs, each rotation
//! action, the new placeholders and token kinds, and where each error points.

mod common;

use std::path::Path;

use common::assert_error_at;
use harness::scenario::{Placeholder, Scenario, ScenarioKeys, TokenKind};
use harness::signing::{KeyAction, KeyAlgorithm, KeySelector, KeyTokenKind};
use rstest::rstest;

const STAGES: &[&str] = &["reference", "reference-claims"];

fn parse(text: &str) -> Result<Scenario, harness::scenario::ParseError> {
    Scenario::parse(Path::new("scenarios/keys.toml"), text, STAGES)
}

const ROTATION: &str = r#"
story = "A rotation."
keys = "cli"
users = ["alice"]

[[step]]
name = "a standby key"
keys = { add_standby = "RS256" }

[[step]]
name = "it signs"
keys = { promote = "standby" }

[[step]]
name = "a token of the old key, after revoking it"
keys = { revoke = "previous" }
stage = "reference-claims"
method = "POST"
path = "/api/session/create"
headers = { Authorization = "Bearer {{alice.token.revoked-key}}", apikey = "{{keys.publishable}}" }
expect = { status = 401, json = { msg = "x {{issued.bad_signature}}" } }

[[step]]
name = "by kid"
keys = { promote = "b81269f1-21d8-4f2e-b719-c2240a840d90" }
"#;

#[test]
fn every_action_parses_in_order_and_the_profile_with_them() {
    let scenario = parse(ROTATION).unwrap();
    assert_eq!(scenario.keys, Some(ScenarioKeys::Cli));
    assert!(scenario.rotates_keys());
    let actions: Vec<_> = scenario
        .steps
        .iter()
        .map(|step| step.keys.clone())
        .collect();
    assert_eq!(
        actions,
        [
            Some(KeyAction::AddStandby(KeyAlgorithm::Rs256)),
            Some(KeyAction::Promote(KeySelector::Standby)),
            Some(KeyAction::Revoke(KeySelector::Previous)),
            Some(KeyAction::Promote(KeySelector::Kid(
                "b81269f1-21d8-4f2e-b719-c2240a840d90".into()
            ))),
        ]
    );
    assert!(scenario.steps[0].request.is_none(), "an action-only step");
    let placeholders = scenario.steps[2].placeholders();
    for expected in [
        Placeholder::Token("alice".into(), TokenKind::Key(KeyTokenKind::RevokedKey)),
        Placeholder::PublishableKey,
        Placeholder::IssuedBadSignature,
    ] {
        assert!(
            placeholders.contains(&expected),
            "{expected:?} in {placeholders:?}"
        );
    }
}

#[test]
fn a_scenario_without_keys_needs_no_profile_and_rotates_nothing() {
    let scenario = parse("story = \"s\"\n[[step]]\nname = \"n\"\nclear = [\"db\"]\n").unwrap();
    assert_eq!((scenario.keys, scenario.rotates_keys()), (None, false));
}

#[rstest]
#[case::unknown_profile(
    "story = \"s\"\nkeys = \"hosted\"\n[[step]]\nname = \"n\"\nclear = [\"db\"]\n",
    2,
    8,
    "unknown key profile `hosted`: expected cli or legacy"
)]
#[case::unknown_action(
    "story = \"s\"\n[[step]]\nname = \"n\"\nkeys = { rotate = \"ES256\" }\n",
    4,
    10,
    "unknown key action `rotate`: expected add_standby, promote, revoke"
)]
#[case::unknown_algorithm(
    "story = \"s\"\n[[step]]\nname = \"n\"\nkeys = { add_standby = \"HS256\" }\n",
    4,
    24,
    "unknown algorithm `HS256`: expected ES256 or RS256"
)]
#[case::two_actions(
    "story = \"s\"\n[[step]]\nname = \"n\"\nkeys = { add_standby = \"ES256\", promote = \"standby\" }\n",
    4,
    33,
    "one key action per step"
)]
#[case::not_a_string(
    "story = \"s\"\n[[step]]\nname = \"n\"\nkeys = { promote = 1 }\n",
    4,
    20,
    "`promote` is a string"
)]
#[case::empty_table(
    "story = \"s\"\n[[step]]\nname = \"n\"\nkeys = {}\n",
    4,
    8,
    "`keys` is one action"
)]
#[case::empty_selector(
    "story = \"s\"\n[[step]]\nname = \"n\"\nkeys = { revoke = \" \" }\n",
    4,
    19,
    "name the key: standby, previous, or its kid"
)]
#[case::an_array(
    "story = \"s\"\n[[step]]\nname = \"n\"\nkeys = [{ revoke = \"previous\" }]\n",
    4,
    8,
    "invalid type"
)]
#[case::unknown_token_kind(
    "story = \"s\"\nusers = [\"a\"]\n[[step]]\nname = \"n\"\nstage = \"reference\"\nmethod = \"GET\"\npath = \"/{{a.token.es512}}\"\n",
    7,
    10,
    "unknown token kind `es512`"
)]
fn errors_point_at_what_is_wrong(
    #[case] text: &str,
    #[case] line: usize,
    #[case] column: usize,
    #[case] message: &str,
) {
    let error = parse(text).unwrap_err();
    assert_error_at(&error, "scenarios/keys.toml", line, column, message);
}
