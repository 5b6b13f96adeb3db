//! Fault steps in scenario files: every fault table form, action-only steps, and where each
//! error points.

mod common;

use std::path::Path;
use std::time::Duration;

use harness::faults::{
    AuthHttpFault, Dependency, Fault, NetworkAction, ProcessAction, Stream, ToxicKind,
};
use harness::scenario::{Requirement, Scenario, describe_fault};
use rstest::rstest;

const STAGES: &[&str] = &["debrief-final", "reference"];

fn parse(text: &str) -> Result<Scenario, harness::scenario::ParseError> {
    Scenario::parse(Path::new("scenarios/faults.toml"), text, STAGES)
}

const OUTAGE: &str = r#"
story = "The auth server goes away and comes back."
users = ["alice"]
requires = "containers"
ambiguous_writes = """
The database connection is cut after the commit: the row exists, the 200 never left.
"""

[[step]]
name = "break everything"
faults = [
    { proxy = "db", toxic = "latency", latency = 3000, jitter = 100, stream = "upstream", toxicity = 0.5 },
    { proxy = "auth", toxic = "down" },
    { process = "db", action = "kill" },
    { network = "auth", action = "disconnect" },
    { auth_http = "429" },
]

[[step]]
name = "a slow database for just this request"
during = [{ proxy = "db", toxic = "slicer", average_size = 64, size_variation = 8, delay = 10 }]
stage = "reference"
method = "POST"
path = "/api/session/create"
headers = { Authorization = "Bearer {{alice.token.valid}}" }
expect = { status = 503 }

[[step]]
name = "everything comes back"
clear = ["all"]

[[step]]
name = "the database serves again"
clear = ["db"]
recover = "10s"
stage = "reference"
method = "POST"
path = "/api/session/create"
"#;

#[test]
fn every_fault_form_parses_into_the_vocabulary() {
    let scenario = parse(OUTAGE).unwrap();
    assert_eq!(scenario.requires, Some(Requirement::Containers));
    assert!(
        scenario
            .ambiguous_writes
            .as_deref()
            .unwrap()
            .starts_with("The database connection is cut")
    );
    assert!(scenario.injects_faults());

    let broken = &scenario.steps[0];
    assert!(
        broken.request.is_none(),
        "an action-only step has no request"
    );
    let Fault::Toxic { dependency, toxic } = &broken.faults[0] else {
        panic!("a toxic: {:?}", broken.faults[0]);
    };
    assert_eq!(*dependency, Dependency::Db);
    assert_eq!(toxic.kind, ToxicKind::Latency);
    assert_eq!(toxic.stream, Stream::Upstream);
    assert_eq!(toxic.toxicity, 0.5);
    assert_eq!(toxic.name, "latency_upstream");
    assert_eq!(toxic.attributes["latency"], 3000);
    assert_eq!(toxic.attributes["jitter"], 100);
    assert_eq!(
        broken.faults[1..],
        [
            Fault::Down {
                dependency: Dependency::Auth
            },
            Fault::Process {
                dependency: Dependency::Db,
                action: ProcessAction::Kill
            },
            Fault::Network {
                dependency: Dependency::Auth,
                action: NetworkAction::Disconnect
            },
            Fault::AuthHttp(AuthHttpFault::RateLimited),
        ]
    );
    let descriptions: Vec<String> = broken.faults.iter().map(describe_fault).collect();
    assert_eq!(
        descriptions,
        [
            "db latency 3000 ms ± 100 ms (upstream, toxicity 0.5)",
            "auth down",
            "process db kill",
            "network auth disconnect",
            "auth http 429",
        ]
    );

    let slow = &scenario.steps[1];
    assert!(slow.faults.is_empty());
    let Fault::Toxic { toxic, .. } = &slow.during[0] else {
        panic!("a toxic: {:?}", slow.during[0]);
    };
    // Defaults: downstream, always.
    assert_eq!((toxic.stream, toxic.toxicity), (Stream::Downstream, 1.0));
    assert_eq!(
        describe_fault(&slow.during[0]),
        "db slicer 64 B ± 8 B every 10 µs (downstream)"
    );
    assert!(slow.request.is_some());

    assert_eq!(scenario.steps[2].clear, Dependency::ALL);
    assert!(scenario.steps[2].request.is_none());
    let back = &scenario.steps[3];
    assert_eq!(back.clear, [Dependency::Db]);
    assert_eq!(back.recover, Some(Duration::from_secs(10)));
}

#[test]
fn scenarios_without_faults_have_none() {
    let scenario = parse(
        "story = \"s\"\n[[step]]\nname = \"n\"\nstage = \"reference\"\nmethod = \"GET\"\npath = \"/\"\n",
    )
    .unwrap();
    assert!(!scenario.injects_faults());
    assert_eq!(scenario.requires, None);
    assert_eq!(scenario.ambiguous_writes, None);
}

const REQUEST: &str = "stage = \"reference\"\nmethod = \"POST\"\npath = \"/p\"\n";

/// `story`, a user, and one step named `n` with `lines` after its name.
fn step_with(lines: &str) -> String {
    format!("story = \"s\"\nusers = [\"alice\"]\n[[step]]\nname = \"n\"\n{lines}\n")
}

#[rstest]
#[case::unknown_key(
    step_with(r#"faults = [{ proxy = "db", toxic = "down", color = 1 }]"#),
    "color",
    "unknown key `color` in this fault"
)]
#[case::down_with_toxicity(
    step_with(r#"faults = [{ proxy = "auth", toxic = "down", toxicity = 0.5 }]"#),
    "toxicity",
    "unknown key `toxicity` in this fault: expected proxy, toxic"
)]
#[case::down_with_an_attribute(
    step_with(r#"faults = [{ proxy = "auth", toxic = "down", timeout = 5 }]"#),
    "timeout",
    "unknown key `timeout` in this fault"
)]
#[case::unknown_toxic(
    step_with(r#"faults = [{ proxy = "db", toxic = "lag" }]"#),
    "\"lag\"",
    "unknown toxic `lag`"
)]
#[case::attribute_of_another_toxic(
    step_with(r#"faults = [{ proxy = "db", toxic = "latency", rate = 5 }]"#),
    "rate",
    "unknown attribute `rate` for toxic `latency`: expected latency, jitter"
)]
#[case::negative_attribute(
    step_with(r#"faults = [{ proxy = "db", toxic = "latency", latency = -1 }]"#),
    "-1",
    "`latency` is a whole number"
)]
#[case::toxicity_out_of_range(
    step_with(r#"faults = [{ proxy = "db", toxic = "timeout", toxicity = 1.5 }]"#),
    "1.5",
    "`toxicity` is a probability from 0 to 1"
)]
#[case::unknown_stream(
    step_with(r#"faults = [{ proxy = "db", toxic = "timeout", stream = "sideways" }]"#),
    "\"sideways\"",
    "`stream` is \"upstream\" or \"downstream\""
)]
#[case::unknown_dependency(
    step_with(r#"faults = [{ proxy = "cache", toxic = "down" }]"#),
    "\"cache\"",
    "unknown dependency `cache`"
)]
#[case::unknown_process_action(
    step_with(r#"faults = [{ process = "db", action = "nap" }]"#),
    "\"nap\"",
    "unknown process action `nap`"
)]
#[case::unknown_network_action(
    step_with(r#"faults = [{ network = "db", action = "unplug" }]"#),
    "\"unplug\"",
    "unknown network action `unplug`"
)]
#[case::network_without_containers(
    step_with(r#"faults = [{ network = "db", action = "disconnect" }]"#),
    "{ network",
    "network faults need containers"
)]
#[case::unknown_auth_http(
    step_with(r#"faults = [{ auth_http = "418" }]"#),
    "\"418\"",
    "unknown auth_http fault `418`"
)]
#[case::auth_http_with_extra_key(
    step_with(r#"faults = [{ auth_http = "500", delay = 3 }]"#),
    "delay",
    "unknown key `delay`"
)]
#[case::no_family(
    step_with(r#"faults = [{ toxic = "down" }]"#),
    "{ toxic",
    "a fault needs one of `proxy`, `process`, `network` or `auth_http`"
)]
#[case::two_families(
    step_with(r#"faults = [{ proxy = "db", process = "db", toxic = "down" }]"#),
    "process",
    "exactly one of"
)]
#[case::missing_toxic(
    step_with(r#"faults = [{ proxy = "db" }]"#),
    "{ proxy",
    "this fault needs `toxic`"
)]
#[case::missing_action(
    step_with(r#"faults = [{ process = "db" }]"#),
    "{ process",
    "this fault needs `action`"
)]
#[case::unknown_clear(
    step_with(r#"clear = ["db", "cache"]"#),
    "\"cache\"",
    "unknown dependency `cache` to clear: expected db, auth, rest or gateway, or all"
)]
#[case::during_without_request(
    step_with(r#"during = [{ proxy = "db", toxic = "down" }]"#),
    "{ proxy",
    "`during` faults last for one: use `faults`"
)]
#[case::recover_without_request(
    step_with("clear = [\"db\"]\nrecover = \"5s\""),
    "\"5s\"",
    "`recover` re-sends the step's request"
)]
#[case::bad_recover(
    step_with(&format!("recover = \"soon\"\n{REQUEST}")),
    "\"soon\"",
    "recover: `soon` is not a duration"
)]
#[case::nothing_to_do(step_with(""), "[[step]]", "needs a request")]
#[case::half_a_request(
    step_with("faults = [{ proxy = \"db\", toxic = \"down\" }]\nmethod = \"GET\""),
    "[[step]]",
    "exactly one of `stage`, `target` or `url`"
)]
#[case::unknown_requirement(
    format!("requires = \"vm\"\n{}", step_with(REQUEST)),
    "\"vm\"",
    "unknown requirement `vm`"
)]
fn malformed_fault_steps_name_the_file_and_position(
    #[case] text: String,
    #[case] at: &str,
    #[case] message: &str,
) {
    // The error must point at the first occurrence of `at` after the story line.
    let offset = text[1..].find(at).expect("the marker is in the text") + 1;
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = offset - before.rfind('\n').map_or(0, |newline| newline + 1) + 1;

    let error = parse(&text).unwrap_err();
    common::assert_error_at(&error, "scenarios/faults.toml", line, column, message);
}

/// The example in scenarios/README.md is a scenario that parses.
#[test]
fn the_documented_example_parses() {
    let readme = include_str!("../../scenarios/README.md");
    let section = &readme[readme.find("## Faults").expect("a Faults section")..];
    let start = section.find("```toml\n").expect("a TOML example") + "```toml\n".len();
    let example = &section[start..start + section[start..].find("```").unwrap()];
    let scenario = parse(example).unwrap_or_else(|error| panic!("{error}"));
    assert!(scenario.ambiguous_writes.is_some());
    assert!(scenario.steps[3].request.is_none());
    assert_eq!(scenario.steps[4].clear, Dependency::ALL);
}
