use super::*;
use crate::faults::{Dependency, Fault, ProcessAction};

fn ms(value: u64) -> Duration {
    Duration::from_millis(value)
}

const TIMEOUTS: ServiceTimeouts = ServiceTimeouts {
    auth: Duration::from_secs(2),
    db: Duration::from_secs(2),
    gateway: Duration::from_secs(60),
};

fn record(client: usize, at: u64, status: u16, session: Option<&str>) -> Record {
    Record {
        client,
        at: ms(at),
        elapsed: ms(5),
        status: Some(status),
        body: match (status, session) {
            (200..300, Some(id)) => format!(r#"{{"sessionId":"{id}"}}"#),
            _ => r#"{"error":"database_unavailable","message":"Try again shortly."}"#.to_owned(),
        },
        error: None,
    }
}

fn row(id: &str, client: usize) -> Row {
    Row {
        id: id.to_owned(),
        client,
    }
}

/// A database restart from 100 to 300 ms.
fn restart() -> Vec<Window> {
    vec![Window {
        fault: Fault::Process {
            dependency: Dependency::Db,
            action: ProcessAction::Restart,
        },
        applying: ms(100),
        applied: ms(100),
        clearing: ms(300),
        cleared: ms(300),
    }]
}

/// A healthy run: 200s with their rows, 503s during the restart, a 200 after it.
fn healthy() -> (Vec<Record>, Vec<Row>) {
    let records = vec![
        record(0, 10, 200, Some("a")),
        record(1, 20, 200, Some("b")),
        record(0, 150, 503, None),
        record(1, 160, 504, None),
        record(0, 400, 200, Some("c")),
    ];
    let rows = vec![row("a", 0), row("b", 1), row("c", 0)];
    (records, rows)
}

fn judged(records: &[Record], rows: &[Row], windows: &[Window]) -> Verdict {
    judge(Observed {
        records,
        written: Some(Written {
            id_field: "sessionId",
            rows,
        }),
        windows,
        timeouts: Some(TIMEOUTS),
        clients: 2,
        stage: "reference",
    })
}

fn violated(verdict: &Verdict) -> Vec<&'static str> {
    verdict
        .invariants
        .iter()
        .filter(|result| result.outcome == Outcome::Violated)
        .map(|result| result.name)
        .collect()
}

#[test]
fn a_healthy_run_holds_and_is_counted() {
    let (records, rows) = healthy();
    let verdict = judged(&records, &rows, &restart());
    assert!(verdict.holds(), "{:#?}", verdict.invariants);
    let counts = &verdict.counts;
    assert_eq!(
        (
            counts.requests,
            counts.status_2xx,
            counts.status_503,
            counts.status_504
        ),
        (5, 3, 1, 1)
    );
    assert_eq!(
        (counts.rows, counts.lost_writes, counts.unacknowledged_rows),
        (3, 0, 0)
    );
    assert_eq!(
        (
            counts.failures_during_faults,
            counts.failures_outside_faults
        ),
        (2, 0)
    );
    assert_eq!(verdict.recovery.last_clear_ms, Some(300.0));
    assert_eq!(verdict.recovery.first_2xx_after_ms, Some(105.0));
    assert_eq!(verdict.users[0].rows, 2);
    assert_eq!(verdict.users[1].status_2xx, 1);
}

#[test]
fn an_acknowledged_id_without_its_row_is_a_lost_write() {
    let (records, mut rows) = healthy();
    rows.retain(|row| row.id != "b");
    let verdict = judged(&records, &rows, &restart());
    assert!(!verdict.holds());
    assert_eq!(violated(&verdict), ["no lost writes"]);
    assert_eq!(verdict.counts.lost_writes, 1);
    let findings = &verdict.invariants[0].findings;
    assert!(findings[0].contains("sessionId b"), "{findings:?}");
}

#[test]
fn a_row_of_another_user_does_not_acknowledge_a_write() {
    let (records, mut rows) = healthy();
    rows[1].client = 0;
    let verdict = judged(&records, &rows, &restart());
    assert_eq!(violated(&verdict), ["no lost writes"]);
    assert_eq!(verdict.counts.lost_writes, 1);
}

#[test]
fn a_401_under_faults_is_a_misleading_error() {
    let (mut records, rows) = healthy();
    records[2].status = Some(401);
    let verdict = judged(&records, &rows, &restart());
    assert!(!verdict.holds());
    assert_eq!(violated(&verdict), ["no misleading errors"]);
    assert_eq!(verdict.counts.other.get("401"), Some(&1));
    let finding = &verdict.invariants[2].findings[0];
    assert!(finding.contains("bad credentials"), "{finding}");
}

#[test]
fn no_answer_a_hang_and_no_recovery_are_violations() {
    let (mut records, rows) = healthy();
    records[3].status = None;
    records[3].error = Some("connection closed before message completed".into());
    records[2].elapsed = ms(5_100);
    records[4].status = Some(503);
    let verdict = judged(&records, &rows[..2], &restart());
    assert_eq!(
        violated(&verdict),
        ["no misleading errors", "no hangs", "recovery"]
    );
    assert_eq!(verdict.latency.max_ms, 5100.0);
    assert_eq!(verdict.counts.other.get("no answer"), Some(&1));
}

#[test]
fn a_200_while_a_breaking_fault_covered_the_request_is_a_violation() {
    let (records, rows) = healthy();
    let mut windows = restart();
    windows.push(Window {
        fault: Fault::Down {
            dependency: Dependency::Auth,
        },
        applying: ms(5),
        applied: ms(8),
        clearing: ms(30),
        cleared: ms(31),
    });
    let verdict = judged(&records, &rows, &windows);
    assert_eq!(violated(&verdict), ["no misleading errors"]);
    // The request at 10 ms ran wholly inside; the one at 20 ms ended before the clear too.
    assert_eq!(verdict.invariants[2].findings.len(), 2);
}

#[test]
fn an_unacknowledged_row_is_ambiguous_not_a_failure() {
    let (records, mut rows) = healthy();
    rows.push(row("committed-after-timeout", 1));
    let verdict = judged(&records, &rows, &restart());
    assert!(verdict.holds(), "{:#?}", verdict.invariants);
    assert_eq!(verdict.counts.unacknowledged_rows, 1);
    assert_eq!(verdict.invariants[1].outcome, Outcome::Ambiguous);
}

#[test]
fn findings_are_capped() {
    let records: Vec<Record> = (0..25).map(|i| record(0, i, 500, None)).collect();
    let verdict = judged(&records, &[], &[]);
    let findings = &verdict.invariants[2].findings;
    assert_eq!(findings.len(), FINDINGS_SHOWN + 1);
    assert_eq!(findings.last().unwrap(), "... and 15 more");
}

#[test]
fn a_project_service_succeeding_with_201_is_judged_by_its_own_id_field() {
    let records: Vec<Record> = ["a", "b"]
        .iter()
        .enumerate()
        .map(|(i, id)| Record {
            body: format!(r#"{{"id":"{id}"}}"#),
            ..record(i, 10 * i as u64, 201, None)
        })
        .collect();
    let rows = [row("a", 0)];
    let verdict = judge(Observed {
        records: &records,
        written: Some(Written {
            id_field: "id",
            rows: &rows,
        }),
        windows: &[],
        timeouts: Some(TIMEOUTS),
        clients: 2,
        stage: "api",
    });
    assert_eq!(verdict.counts.status_2xx, 2);
    assert_eq!(violated(&verdict), ["no lost writes"]);
    let finding = &verdict.invariants[0].findings[0];
    assert!(finding.contains("answered 201 with id b"), "{finding}");
}

#[test]
fn unknown_writes_and_timeouts_are_said_to_be_unchecked_not_passed_silently() {
    let (mut records, _) = healthy();
    records[2].elapsed = ms(60_000);
    let verdict = judge(Observed {
        records: &records,
        written: None,
        windows: &restart(),
        timeouts: None,
        clients: 2,
        stage: "api",
    });
    assert!(verdict.holds(), "{:#?}", verdict.invariants);
    for name in ["no lost writes", "no hangs"] {
        let result = verdict.invariants.iter().find(|r| r.name == name).unwrap();
        assert!(result.detail.starts_with("not checked"), "{result:?}");
    }
    assert_eq!(verdict.latency.bound_ms, None);
}
