//! The physical limits: `pgbench` running straight against PostgreSQL, with no HTTP in the way,
//! the very transaction the reference service runs (role switch, claims, insert: [`SCRIPT`]),
//! and every statement one request causes ([`whole_request_script`]: the auth server's lookups
//! for `GET /user`, then that transaction).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::BenchError;

/// What one pgbench run reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PgbenchFigures {
    pub transactions: u64,
    pub tps: f64,
    pub latency_avg_ms: Option<f64>,
}

/// `pgbench` next to the `postgres` binary the stack's postmaster runs.
pub fn locate(postmaster_pid: u32) -> Result<PathBuf, BenchError> {
    let exe = std::fs::read_link(format!("/proc/{postmaster_pid}/exe"))
        .map_err(|e| BenchError::io("reading the postmaster's binary path", e))?;
    let pgbench = exe.with_file_name("pgbench");
    if pgbench.is_file() {
        Ok(pgbench)
    } else {
        Err(BenchError::Pgbench(format!(
            "no pgbench next to {} (install the PostgreSQL client tools of the same version)",
            exe.display()
        )))
    }
}

/// The service's transaction as a pgbench script. In prepared mode `:claims` and `:user_id`
/// become bind parameters, as in the service; their values come from [`variables`]. (Literal
/// JSON in the script would not do: pgbench reads every `:"name"` in it as a variable.)
pub const SCRIPT: &str = "\
BEGIN;
SELECT set_config('role', 'authenticated', true), set_config('request.jwt.claims', :claims, true), set_config('statement_timeout', '2000ms', true);
INSERT INTO public.sessions (user_id, turn_count) VALUES (:user_id, 0) RETURNING id;
COMMIT;
";

/// Every statement one `POST /api/session/create` on the reference stage causes, in order: the
/// auth server's `GET /user` lookups (the texts it runs, each its own implicit transaction, as
/// there), then [`SCRIPT`]. Needs [`variables`] and `session_id`; runs as a role that may read
/// `auth` and become `authenticated` (the superuser: in the stack two roles on two pools share
/// it, which only makes this limit higher).
pub fn whole_request_script() -> String {
    let [user, session, identities] = auth::api::user::get_user_statements();
    let lookups = [
        user.replace("$1", ":instance_id").replace("$2", ":user_id"),
        session.replace("$1", ":session_id"),
        identities.replace("$1", ":user_id"),
    ];
    let mut script = String::new();
    for statement in lookups {
        // pgbench reads a statement per line (a backslash continues one).
        script.push_str(&statement.split_whitespace().collect::<Vec<_>>().join(" "));
        script.push_str(";\n");
    }
    script + SCRIPT
}

/// `-D` definitions for both scripts: the user's id, the token's session and the nil instance
/// id the auth server looks users up under, and the claims with role set to authenticated, as
/// the service publishes them.
pub fn variables(user_id: &str, claims: &Value) -> Vec<String> {
    let session_id = claims
        .get("session_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut claims = claims.clone();
    if let Some(object) = claims.as_object_mut() {
        object.insert("role".into(), Value::String("authenticated".into()));
    }
    vec![
        format!("claims={claims}"),
        format!("user_id={user_id}"),
        format!("session_id={session_id}"),
        format!("instance_id={}", uuid::Uuid::nil()),
    ]
}

/// Who pgbench logs in as (the stack's password for every role is `postgres`).
#[derive(Debug, Clone, Copy)]
pub struct Login<'a> {
    pub port: u16,
    pub user: &'a str,
}

/// Runs `script` for `duration` (whole seconds, at least one) with `clients` connections as
/// `login`, one thread per client.
pub async fn run(
    pgbench: &Path,
    login: Login<'_>,
    script_file: &Path,
    variables: &[String],
    clients: usize,
    duration: Duration,
) -> Result<PgbenchFigures, BenchError> {
    let seconds = duration.as_secs().max(1).to_string();
    let clients = clients.to_string();
    let output = tokio::process::Command::new(pgbench)
        .args(["-n", "-M", "prepared", "-h", "127.0.0.1", "-p"])
        .arg(login.port.to_string())
        .args(["-U", login.user, "-f"])
        .arg(script_file)
        .args(variables.iter().flat_map(|v| ["-D", v.as_str()]))
        .args(["-c", &clients, "-j", &clients, "-T", &seconds, "postgres"])
        .env("PGPASSWORD", "postgres")
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| BenchError::io(format!("running {}", pgbench.display()), e))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        // pgbench repeats an abort once per client: the first line says it.
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr.lines().next().unwrap_or("(nothing on stderr)");
        return Err(BenchError::Pgbench(format!(
            "exited with {}: {first}",
            output.status
        )));
    }
    parse(&stdout)
}

/// Reads the transaction count, tps and average latency from pgbench's summary.
pub fn parse(output: &str) -> Result<PgbenchFigures, BenchError> {
    let after = |prefix: &str| {
        output
            .lines()
            .find_map(|line| line.trim().strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next())
            .map(|number| number.split('/').next().unwrap_or(number).to_owned())
    };
    let missing =
        |what: &str| BenchError::Pgbench(format!("no {what} in pgbench's output: {output}"));
    let tps: f64 = after("tps = ")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| missing("`tps = `"))?;
    let transactions: u64 = after("number of transactions actually processed: ")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| missing("transaction count"))?;
    let latency_avg_ms = after("latency average = ").and_then(|n| n.parse().ok());
    Ok(PgbenchFigures {
        transactions,
        tps,
        latency_avg_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PG15_OUTPUT: &str = "\
pgbench (15.8 (Debian 15.8-1.pgdg120+1))
transaction type: /tmp/x/session.sql
scaling factor: 1
query mode: prepared
number of clients: 8
number of threads: 8
maximum number of tries: 1
duration: 5 s
number of transactions actually processed: 23817
number of failed transactions: 0 (0.000%)
latency average = 1.679 ms
initial connection time = 12.345 ms
tps = 4763.216437 (without initial connection time)
";

    #[test]
    fn parses_pgbench_15_summary() {
        let figures = parse(PG15_OUTPUT).unwrap();
        assert_eq!(figures.transactions, 23817);
        assert_eq!(figures.tps, 4763.216437);
        assert_eq!(figures.latency_avg_ms, Some(1.679));
    }

    #[test]
    fn output_without_tps_is_an_error_quoting_it() {
        let error = parse("pgbench: error: connection refused").unwrap_err();
        assert!(error.to_string().contains("connection refused"), "{error}");
    }

    #[test]
    fn variables_carry_the_claims_with_the_role_the_service_sets() {
        let claims = serde_json::json!({ "sub": "u-1", "role": "anon", "session_id": "s-1" });
        let variables = variables("u-1", &claims);
        assert_eq!(
            variables,
            [
                r#"claims={"role":"authenticated","session_id":"s-1","sub":"u-1"}"#,
                "user_id=u-1",
                "session_id=s-1",
                "instance_id=00000000-0000-0000-0000-000000000000",
            ]
        );
        assert!(SCRIPT.contains("set_config('request.jwt.claims', :claims, true)"));
        assert!(SCRIPT.contains("VALUES (:user_id, 0) RETURNING id;"));
    }

    #[test]
    fn the_whole_request_is_the_auth_servers_lookups_then_the_insert() {
        let script = whole_request_script();
        let lines: Vec<&str> = script.lines().collect();
        assert_eq!(lines.len(), 7, "{script}");
        assert!(
            lines[0].starts_with("select id, aud, role, email,"),
            "{}",
            lines[0]
        );
        assert!(
            lines[0]
                .ends_with("from auth.users where instance_id = :instance_id and id = :user_id;")
        );
        assert_eq!(
            lines[1],
            "select id, user_id, not_after from auth.sessions where id = :session_id;"
        );
        assert!(
            lines[2]
                .ends_with("from auth.identities where user_id = :user_id order by created_at;")
        );
        assert!(script.ends_with(SCRIPT));
        assert!(
            !script.contains('$'),
            "every parameter is a pgbench variable: {script}"
        );
    }
}
