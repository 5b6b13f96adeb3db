//! Each invariant over made-up observations: ones that hold, and ones that break it.

use std::time::Duration;

use super::*;
use crate::faults::{AuthHttpFault, Stream, ToxicSpec};
use crate::run::WriteTable;

const TIMEOUTS: Option<ServiceTimeouts> = Some(ServiceTimeouts {
    auth: Duration::from_secs(2),
    db: Duration::from_secs(2),
    gateway: Duration::from_secs(60),
});

fn down(dependency: Dependency) -> Fault {
    Fault::Down { dependency }
}

fn toxic(
    dependency: Dependency,
    kind: ToxicKind,
    attributes: &[(&str, u64)],
    toxicity: f32,
) -> Fault {
    Fault::Toxic {
        dependency,
        toxic: ToxicSpec {
            name: String::new(),
            kind,
            stream: Stream::Downstream,
            toxicity,
            attributes: attributes
                .iter()
                .map(|(name, value)| (name.to_string(), serde_json::Value::from(*value)))
                .collect(),
        },
    }
}

fn latency(millis: u64) -> Fault {
    toxic(
        Dependency::Db,
        ToxicKind::Latency,
        &[("latency", millis)],
        1.0,
    )
}

/// A reference request in step `step`, sent at `at_ms`, taking `elapsed_ms`.
fn request(step: usize, status: Option<u16>, body: &str, active: &[Fault]) -> RequestRecord {
    RequestRecord {
        step,
        step_name: format!("step {step}"),
        subject: Subject::Stage(REFERENCE.to_owned()),
        at: Duration::from_millis(step as u64 * 1000),
        elapsed: Duration::from_millis(50),
        status,
        body: body.to_owned(),
        error: status.is_none().then(|| "connection reset".to_owned()),
        active: active.to_vec(),
    }
}

fn faults(step: usize, at_ms: u64, active: &[Fault]) -> Event {
    Event::Faults {
        at: Duration::from_millis(at_ms),
        step,
        active: active.to_vec(),
    }
}

fn created(id: &str) -> String {
    format!(r#"{{"sessionId":"{id}"}}"#)
}

#[test]
fn acknowledged_writes_hold_when_every_200_has_its_row_and_nothing_more() {
    let events = [
        Event::Request(request(1, Some(200), &created("a"), &[])),
        Event::Request(request(
            2,
            Some(503),
            r#"{"error":"unavailable"}"#,
            &[down(Dependency::Db)],
        )),
        Event::Request(request(3, Some(200), &created("b"), &[])),
    ];
    let result = acknowledged_writes(
        &events,
        &["a".into(), "b".into()],
        None,
        &WriteTable::reference(),
    );
    assert_eq!(result.outcome, Outcome::Held, "{result:?}");
    assert_eq!(result.detail, "2 acknowledged, 2 rows");
}

#[test]
fn a_200_without_its_row_is_a_lost_write() {
    let events = [
        Event::Request(request(1, Some(200), &created("a"), &[])),
        Event::Request(request(4, Some(200), &created("b"), &[latency(100)])),
    ];
    let result = acknowledged_writes(&events, &["a".into()], None, &WriteTable::reference());
    assert_eq!(result.outcome, Outcome::Violated);
    assert_eq!(result.findings.len(), 1, "{result:?}");
    assert!(
        result.findings[0].contains("step 4 (`step 4`)"),
        "{result:?}"
    );
    assert!(
        result.findings[0].contains("lost acknowledged write"),
        "{result:?}"
    );
}

#[test]
fn a_row_nobody_acknowledged_fails_unless_the_scenario_documents_why() {
    let events = [Event::Request(request(
        2,
        None,
        "",
        &[down(Dependency::Db)],
    ))];
    let rows = ["c".to_owned()];
    let undocumented = acknowledged_writes(&events, &rows, None, &WriteTable::reference());
    assert_eq!(undocumented.outcome, Outcome::Violated);
    assert!(undocumented.findings[0].contains("unacknowledged write committed"));

    let documented = acknowledged_writes(
        &events,
        &rows,
        Some("cut after the commit"),
        &WriteTable::reference(),
    );
    assert_eq!(documented.outcome, Outcome::Ambiguous, "{documented:?}");
    assert!(documented.findings[0].contains("cut after the commit"));
}

#[test]
fn an_acknowledged_write_is_only_a_success_with_the_id_field() {
    let events = [
        Event::Request(request(1, Some(500), &created("a"), &[])),
        Event::Request(request(2, Some(200), r#"{"id":"a"}"#, &[])),
        Event::Request(request(3, Some(200), "not json", &[])),
    ];
    let result = acknowledged_writes(&events, &[], None, &WriteTable::reference());
    assert_eq!(result.outcome, Outcome::Held, "{result:?}");
    // A 201 is a success too, and a project may name another field (numbers count).
    let created = [Event::Request(request(
        1,
        Some(201),
        r#"{"orderId":7}"#,
        &[],
    ))];
    let orders = WriteTable {
        id_field: "orderId".to_owned(),
        ..WriteTable::reference()
    };
    let result = acknowledged_writes(&created, &[], None, &orders);
    assert_eq!(result.outcome, Outcome::Violated, "{result:?}");
    assert!(
        result.findings[0].contains("answered 201 with orderId 7, but public.sessions has no"),
        "{result:?}"
    );
}

#[test]
fn another_stage_is_judged_by_its_own_name() {
    let mut record = request(2, Some(401), "{}", &[down(Dependency::Rest)]);
    record.subject = Subject::Stage("app".to_owned());
    let events = [Event::Request(record)];
    assert_eq!(
        misleading_errors(&events, None, REFERENCE).outcome,
        Outcome::Held
    );
    let judged = misleading_errors(&events, None, "app");
    assert_eq!(judged.outcome, Outcome::Violated, "{judged:?}");
    assert!(
        judged.detail.starts_with("1 app step(s) under faults"),
        "{judged:?}"
    );
}

#[test]
fn an_outage_answered_503_or_504_in_time_is_not_misleading() {
    let events = [
        Event::Request(request(1, Some(503), "{}", &[down(Dependency::Auth)])),
        Event::Request(request(2, Some(504), "{}", &[latency(5000)])),
        // Degrading faults may still succeed.
        Event::Request(request(3, Some(200), &created("a"), &[latency(500)])),
        Event::Request(request(
            4,
            Some(200),
            &created("b"),
            &[toxic(Dependency::Db, ToxicKind::ResetPeer, &[], 0.3)],
        )),
        // No fault in force: a 401 is the truth.
        Event::Request(request(5, Some(401), "{}", &[])),
    ];
    let result = misleading_errors(&events, TIMEOUTS, REFERENCE);
    assert_eq!(result.outcome, Outcome::Held, "{result:?}");
    assert_eq!(result.detail, "4 reference step(s) under faults");
}

#[test]
fn an_outage_reported_as_bad_credentials_is_misleading() {
    let mut record = request(3, Some(401), "{}", &[down(Dependency::Auth)]);
    record.step_name = "the auth server refuses connections".into();
    let result = misleading_errors(&[Event::Request(record)], TIMEOUTS, REFERENCE);
    assert_eq!(result.outcome, Outcome::Violated);
    assert_eq!(
        result.findings,
        [
            "invariant: step 3 (`the auth server refuses connections`) answered 401 while auth \
          was down: an outage reported as bad credentials"
        ]
    );
}

#[test]
fn every_wrong_answer_to_a_breaking_fault_is_named() {
    let events = [
        Event::Request(request(1, Some(500), "{}", &[down(Dependency::Db)])),
        Event::Request(request(2, Some(200), &created("a"), &[latency(2000)])),
        Event::Request(request(
            3,
            Some(403),
            "{}",
            &[Fault::AuthHttp(AuthHttpFault::OtherUser)],
        )),
        Event::Request(request(4, None, "", &[down(Dependency::Db)])),
    ];
    let result = misleading_errors(&events, TIMEOUTS, REFERENCE);
    let findings = result.findings.join("\n");
    assert_eq!(result.findings.len(), 4, "{findings}");
    assert!(
        findings
            .contains("answered 500 while db was down: an outage reported as an internal error"),
        "{findings}"
    );
    assert!(
        findings.contains(
            "answered 200 while `db latency 2000 ms (downstream)` was in force: a success claimed"
        ),
        "{findings}"
    );
    assert!(
        findings.contains("answered 403 while auth answered `other-user`"),
        "{findings}"
    );
    assert!(
        findings.contains("step 4 (`step 4`) got no answer while db was down: connection reset"),
        "{findings}"
    );
    // Other stages show their own failures in the snapshot; only the reference is judged.
    let mut elsewhere = request(1, Some(401), "{}", &[down(Dependency::Auth)]);
    elsewhere.subject = Subject::Stage("debrief-final".into());
    let result = misleading_errors(&[Event::Request(elsewhere)], TIMEOUTS, REFERENCE);
    assert_eq!(result.outcome, Outcome::Held, "{result:?}");
}

#[test]
fn an_answer_past_the_timeout_plus_the_margin_is_a_hang() {
    let mut slow = request(2, Some(503), "{}", &[down(Dependency::Auth)]);
    slow.elapsed = Duration::from_millis(3200);
    let mut in_time = request(3, Some(503), "{}", &[down(Dependency::Auth)]);
    in_time.elapsed = Duration::from_millis(2900);
    let result = misleading_errors(
        &[Event::Request(slow), Event::Request(in_time)],
        TIMEOUTS,
        REFERENCE,
    );
    assert_eq!(result.findings.len(), 1, "{result:?}");
    assert!(result.findings[0].contains("step 2"), "{result:?}");
    assert!(result.findings[0].contains("took 3.2 s"), "{result:?}");
    assert!(result.findings[0].contains("a hang"), "{result:?}");

    // Without the service's timeouts, no bound is claimed.
    let mut slow = request(2, Some(503), "{}", &[down(Dependency::Auth)]);
    slow.elapsed = Duration::from_secs(20);
    let result = misleading_errors(&[Event::Request(slow)], None, REFERENCE);
    assert_eq!(result.outcome, Outcome::Held, "{result:?}");
    assert!(result.detail.contains("hangs not checked"));
}

#[test]
fn severity_follows_the_fault_and_the_timeouts() {
    assert_eq!(severity(&latency(1999), TIMEOUTS), Severity::Degrading);
    assert_eq!(severity(&latency(2000), TIMEOUTS), Severity::Breaking);
    let jittery = toxic(
        Dependency::Db,
        ToxicKind::Latency,
        &[("latency", 1500), ("jitter", 600)],
        1.0,
    );
    assert_eq!(severity(&jittery, TIMEOUTS), Severity::Breaking);
    assert_eq!(severity(&latency(5000), None), Severity::Degrading);
    for kind in [
        ToxicKind::Timeout,
        ToxicKind::ResetPeer,
        ToxicKind::LimitData,
    ] {
        assert_eq!(
            severity(&toxic(Dependency::Auth, kind, &[], 1.0), TIMEOUTS),
            Severity::Breaking
        );
        assert_eq!(
            severity(&toxic(Dependency::Auth, kind, &[], 0.99), TIMEOUTS),
            Severity::Degrading
        );
    }
    for kind in [
        ToxicKind::SlowClose,
        ToxicKind::Bandwidth,
        ToxicKind::Slicer,
    ] {
        assert_eq!(
            severity(&toxic(Dependency::Auth, kind, &[], 1.0), TIMEOUTS),
            Severity::Degrading
        );
    }
    let pause = Fault::Process {
        dependency: Dependency::Db,
        action: ProcessAction::Pause,
    };
    assert_eq!(severity(&pause, TIMEOUTS), Severity::Breaking);
    for fault in AuthHttpFault::ALL {
        assert_eq!(
            severity(&Fault::AuthHttp(fault), TIMEOUTS),
            Severity::Breaking
        );
    }
}

#[rstest::rstest]
#[case::sqlstate(r#"{"error":"SQLSTATE 42501"}"#, "an SQLSTATE")]
#[case::constraint(
    r#"{"error":"new row violates row-level security policy"}"#,
    "a constraint violation"
)]
#[case::sql(r#"{"error":"INSERT INTO public.sessions failed"}"#, "SQL")]
#[case::select("error: select id from sessions", "SQL")]
#[case::syntax("syntax error at or near", "an SQL syntax error")]
#[case::connection_string("postgres://authenticator:postgres@db/postgres", "a connection string")]
#[case::upstream_url(r#"{"error":"GET http://127.0.0.1:54321/user failed"}"#, "a local URL")]
#[case::localhost("error sending request to localhost:9999", "a local URL")]
#[case::panic("thread 'main' panicked at service/x.rs:3", "a panic")]
#[case::backtrace("stack backtrace:\n 0: x", "a backtrace")]
#[case::source_path("at src/db.rs:118", "a source path")]
fn internals_in_a_reference_body_are_found(#[case] body: &str, #[case] what: &str) {
    let events = [Event::Request(request(
        2,
        Some(503),
        body,
        &[down(Dependency::Db)],
    ))];
    let result = internals(&events, REFERENCE);
    assert_eq!(result.outcome, Outcome::Violated, "{body}");
    assert!(
        result
            .findings
            .iter()
            .any(|finding| finding.contains(&format!("with {what} in its body"))),
        "{result:?}"
    );
}

#[test]
fn clean_bodies_and_other_stages_show_no_internals() {
    let clean = request(
        1,
        Some(503),
        r#"{"error":"Service unavailable: the database did not answer in time.","code":"db_unavailable"}"#,
        &[],
    );
    let mut leaky = request(2, Some(500), "postgres://x", &[]);
    leaky.subject = Subject::Stage("debrief-final".into());
    let result = internals(&[Event::Request(clean), Event::Request(leaky)], REFERENCE);
    assert_eq!(result.outcome, Outcome::Held, "{result:?}");
    assert_eq!(result.detail, "1 reference step(s)");
}

#[test]
fn recovery_is_the_time_from_the_last_clear_to_the_next_reference_200() {
    let db = [down(Dependency::Db)];
    let mut back = request(5, Some(200), &created("a"), &[]);
    back.at = Duration::from_millis(4300);
    back.elapsed = Duration::from_millis(200);
    let events = [
        faults(1, 100, &db),
        Event::Request(request(2, Some(503), "{}", &db)),
        faults(3, 3000, &[]),
        faults(3, 3100, &db),
        faults(4, 4000, &[]),
        Event::Request(request(4, Some(503), "{}", &[])),
        Event::Request(back),
    ];
    let (result, recovered) = recovery(&events, REFERENCE);
    assert_eq!(result.outcome, Outcome::Held, "{result:?}");
    assert_eq!(recovered, Some(Duration::from_millis(500)));
    assert_eq!(
        result.detail,
        "a reference request succeeded after the last clear (step 4)"
    );
}

#[test]
fn no_success_after_the_clear_is_no_recovery() {
    let db = [down(Dependency::Db)];
    let events = [
        faults(1, 100, &db),
        faults(2, 2000, &[]),
        Event::Request(request(3, Some(503), "{}", &[])),
    ];
    let (result, recovered) = recovery(&events, REFERENCE);
    assert_eq!(result.outcome, Outcome::Violated);
    assert_eq!(recovered, None);
    assert!(
        result.findings[0].contains(
            "cleared in step 2: 1 reference request(s) followed it, the first answering 503"
        ),
        "{result:?}"
    );

    // A 200 before the clear does not count.
    let events = [
        faults(1, 100, &[latency(10)]),
        Event::Request(request(2, Some(200), &created("a"), &[latency(10)])),
        faults(3, 3000, &[]),
    ];
    let (result, _) = recovery(&events, REFERENCE);
    assert!(
        result.findings[0].contains("no reference request followed it"),
        "{result:?}"
    );
}

#[test]
fn faults_left_in_force_at_the_end_are_no_recovery() {
    let events = [
        faults(1, 100, &[down(Dependency::Auth)]),
        Event::Request(request(2, Some(503), "{}", &[down(Dependency::Auth)])),
    ];
    let (result, recovered) = recovery(&events, REFERENCE);
    assert_eq!(result.outcome, Outcome::Violated);
    assert_eq!(recovered, None);
    assert!(
        result.findings[0].contains("ends with auth down still in force"),
        "{result:?}"
    );
}

/// A request through the project URL.
fn api(
    step: usize,
    method: &str,
    path: &str,
    status: Option<u16>,
    body: &str,
    active: &[Fault],
) -> RequestRecord {
    let mut record = request(step, status, body, active);
    record.subject = Subject::Api {
        method: method.to_owned(),
        path: path.to_owned(),
    };
    record
}

#[test]
fn through_the_gateway_an_outage_is_502_503_or_504_and_nothing_else() {
    let rest_down = [down(Dependency::Rest)];
    let cases = [
        (Some(502), true),
        (Some(503), true),
        (Some(504), true),
        (Some(401), false),
        (Some(404), false),
        (Some(201), false),
        (None, false),
    ];
    for (status, holds) in cases {
        let events = [Event::Request(api(
            1,
            "GET",
            "/rest/v1/sessions",
            status,
            "{}",
            &rest_down,
        ))];
        let result = misleading_errors(&events, TIMEOUTS, REFERENCE);
        assert_eq!(
            result.outcome == Outcome::Held,
            holds,
            "{status:?}: {result:?}"
        );
        assert_eq!(
            result.detail,
            "0 reference step(s), 1 api step(s) under faults"
        );
    }
}

#[test]
fn with_the_gateway_itself_down_a_refused_connection_is_the_truth() {
    let events = [Event::Request(api(
        1,
        "POST",
        "/rest/v1/sessions",
        None,
        "",
        &[down(Dependency::Gateway)],
    ))];
    let result = misleading_errors(&events, TIMEOUTS, REFERENCE);
    assert_eq!(result.outcome, Outcome::Held, "{result:?}");
}

#[test]
fn each_request_is_judged_by_the_hops_it_crosses_only() {
    // The reference never crosses `rest`; an auth route never crosses `db`.
    let events = [
        Event::Request(request(
            1,
            Some(200),
            &created("a"),
            &[down(Dependency::Rest)],
        )),
        Event::Request(api(
            2,
            "GET",
            "/auth/v1/user",
            Some(200),
            "{}",
            &[down(Dependency::Db)],
        )),
        Event::Request(api(
            3,
            "GET",
            "/rest/v1/sessions",
            Some(200),
            "[]",
            &[down(Dependency::Db)],
        )),
    ];
    let result = misleading_errors(&events, TIMEOUTS, REFERENCE);
    assert_eq!(result.outcome, Outcome::Violated, "{result:?}");
    assert_eq!(result.findings.len(), 1, "{result:?}");
    assert!(result.findings[0].contains("step 3"), "{result:?}");
    assert!(
        result.findings[0].contains("a success claimed while a dependency could not answer"),
        "{result:?}"
    );
}

#[test]
fn behind_the_gateway_a_latency_breaks_only_past_the_gateway_timeout() {
    let within = [toxic(
        Dependency::Db,
        ToxicKind::Latency,
        &[("latency", 3000)],
        1.0,
    )];
    let past = [toxic(
        Dependency::Rest,
        ToxicKind::Latency,
        &[("latency", 61_000)],
        1.0,
    )];
    // 3 s breaks the reference's 2 s budget, not the gateway's 60 s: a 201 is fine.
    let slow_ok = [Event::Request(api(
        1,
        "POST",
        "/rest/v1/sessions",
        Some(201),
        "[]",
        &within,
    ))];
    assert_eq!(
        misleading_errors(&slow_ok, TIMEOUTS, REFERENCE).outcome,
        Outcome::Held
    );
    let mut timed_out = api(1, "GET", "/rest/v1/sessions", Some(200), "[]", &past);
    timed_out.elapsed = Duration::from_millis(50);
    let result = misleading_errors(&[Event::Request(timed_out)], TIMEOUTS, REFERENCE);
    assert_eq!(result.outcome, Outcome::Violated, "{result:?}");
}

#[test]
fn rows_the_data_api_returned_for_an_insert_are_acknowledged() {
    let events = [
        Event::Request(api(
            1,
            "POST",
            "/rest/v1/sessions",
            Some(201),
            r#"[{"id":"a"},{"id":"b"}]"#,
            &[],
        )),
        Event::Request(api(
            2,
            "POST",
            "/rest/v1/sessions",
            Some(201),
            r#"{"id":"c"}"#,
            &[],
        )),
        // Not an insert into sessions, and not a success: nothing acknowledged.
        Event::Request(api(
            3,
            "GET",
            "/rest/v1/sessions",
            Some(200),
            r#"[{"id":"x"}]"#,
            &[],
        )),
        Event::Request(api(
            4,
            "POST",
            "/rest/v1/sessions",
            Some(401),
            r#"{"id":"y"}"#,
            &[],
        )),
    ];
    let rows = ["a", "b", "c"].map(str::to_owned);
    let result = acknowledged_writes(&events, &rows, None, &WriteTable::reference());
    assert_eq!(result.outcome, Outcome::Held, "{result:?}");
    assert_eq!(result.detail, "3 acknowledged, 3 rows");
}

#[test]
fn an_api_success_after_the_clear_is_recovery() {
    let rest = [down(Dependency::Rest)];
    let events = [
        faults(1, 100, &rest),
        Event::Request(api(1, "GET", "/rest/v1/sessions", Some(502), "{}", &rest)),
        faults(2, 1000, &[]),
        Event::Request(api(2, "GET", "/rest/v1/sessions", Some(206), "[]", &[])),
    ];
    let (result, recovered) = recovery(&events, REFERENCE);
    assert_eq!(result.outcome, Outcome::Held, "{result:?}");
    assert!(recovered.is_some());
    assert_eq!(
        result.detail,
        "an api request succeeded after the last clear (step 2)"
    );
}
